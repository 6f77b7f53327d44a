/**
 * The operation pipeline: parsing `--op` steps, validating them once, and
 * applying them in order to an {@link Image}.
 *
 * Steps are plain serialisable objects, so the same pipeline travels to
 * workers in the protocol's `hello` message.
 *
 * @module
 */

import { assertImage, type Image } from "./image.ts";
import { overPixelLimit } from "./defaults.ts";
import {
  Arena,
  DEFAULT_KERNEL,
  flipRgba,
  grayRgba,
  isKernel,
  type Kernel,
  KERNELS,
  placeAt,
  placeRgba,
  type Resident,
  resizeAt,
  thresholdRgba,
} from "./kernels/mod.ts";

/** How a resize fits the source into the requested box. */
export type Fit = "fill" | "contain" | "cover" | "inside";

/** Every fit mode, in the order help texts list them. */
export const FITS: readonly Fit[] = ["fill", "contain", "cover", "inside"];

/**
 * Where `cover` crops and `contain` pads: which part of the image is kept
 * (cover) or where it sits in the box (contain). sharp's `position`.
 */
export type Position =
  | "centre"
  | "top"
  | "bottom"
  | "left"
  | "right"
  | "top-left"
  | "top-right"
  | "bottom-left"
  | "bottom-right";

/** Every position, in the order help texts list them. */
export const POSITIONS: readonly Position[] = [
  "centre",
  "top",
  "bottom",
  "left",
  "right",
  "top-left",
  "top-right",
  "bottom-left",
  "bottom-right",
];

/** A resize step: the box, how the image fits it, and the options of that fit. */
export interface ResizeStep {
  /** Always `resize`. */
  op: "resize";
  /** Box width in pixels. */
  width: number;
  /** Box height in pixels. */
  height: number;
  /** How the image fits the box. */
  fit: Fit;
  /** Where `cover` crops and `contain` pads (default centre). */
  position?: Position;
  /** Colour of `contain`'s bars, RGBA 0..255 each (default opaque black). */
  background?: readonly [number, number, number, number];
  /** false: never scale up, only shrink (default true). */
  enlarge?: boolean;
  /** The resampling filter (default `linear`, {@link DEFAULT_KERNEL}). */
  kernel?: Kernel;
}

/** One operation of the pipeline. */
export type Step =
  | ResizeStep
  | { op: "to_gray" }
  | { op: "threshold"; value: number }
  | { op: "flip"; axis: "h" | "v" | "hv" };

/** A step string that cannot be understood; its message names the step. */
export class StepError extends Error {
  override name = "StepError";
}

/** Largest width or height a resize step may ask for. */
export const MAX_DIMENSION = 65535;

/** Parses a `WxH` (or `W` and `H`) size, throwing {@link StepError}. */
export function parseSize(text: string): { width: number; height: number } {
  const match = /^(\d+)[xX](\d+)$/.exec(text.trim());
  if (!match) {
    throw new StepError(`size "${text}" is not WIDTHxHEIGHT, e.g. 512x512`);
  }
  const width = Number(match[1]), height = Number(match[2]);
  for (const [name, value] of [["width", width], ["height", height]] as const) {
    if (value < 1 || value > MAX_DIMENSION) {
      throw new StepError(
        `${name} ${value} in "${text}" must be 1..${MAX_DIMENSION}`,
      );
    }
  }
  return { width, height };
}

/** Named colours `--background` and `bg=` take besides `#rgb[a]` / `#rrggbb[aa]`. */
const COLOURS: Record<string, readonly [number, number, number, number]> = {
  black: [0, 0, 0, 255],
  white: [255, 255, 255, 255],
  gray: [128, 128, 128, 255],
  grey: [128, 128, 128, 255],
  red: [255, 0, 0, 255],
  green: [0, 128, 0, 255],
  blue: [0, 0, 255, 255],
  transparent: [0, 0, 0, 0],
};

/**
 * Parses a colour: a name (black, white, gray, red, green, blue,
 * transparent) or hex `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa` (the `#` is
 * optional). Throws {@link StepError}.
 */
export function parseColour(text: string): [number, number, number, number] {
  const name = text.trim().toLowerCase();
  if (COLOURS[name]) return [...COLOURS[name]];
  const hex = /^#?([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(name)?.[1];
  if (!hex) {
    throw new StepError(
      `colour "${text}" is not a name (${Object.keys(COLOURS).join(", ")}) or #rrggbb[aa]`,
    );
  }
  const digits = hex.length <= 4 ? [...hex].map((d) => d + d) : hex.match(/../g)!;
  const [r, g, b, a = 255] = digits.map((d) => typeof d === "number" ? d : parseInt(d, 16));
  return [r, g, b, a];
}

/** A colour as `#rrggbbaa`. */
export function formatColour(rgba: readonly number[]): string {
  return "#" + rgba.map((v) => v.toString(16).padStart(2, "0")).join("");
}

/**
 * Parses a resize value: `WxH` then, in any order after a colon each, a fit
 * (fill, contain, cover, inside), a position (centre, top, bottom, left,
 * right, top-left, ...), `no-enlarge`, `bg=COLOUR`, and a kernel (nearest,
 * linear, cubic, mitchell, lanczos3).
 */
function parseResize(text: string, arg: string | undefined): ResizeStep {
  if (!arg) {
    throw new StepError(
      `resize needs a size: resize=WxH[:fit][:position], e.g. resize=512x512`,
    );
  }
  const [size, ...options] = arg.split(":");
  const step: ResizeStep = { op: "resize", ...parseSize(size), fit: "fill" };
  const seen = new Set<string>();
  for (const raw of options) {
    const option = raw.trim().toLowerCase();
    const kind = (FITS as readonly string[]).includes(option)
      ? "fit"
      : (POSITIONS as readonly string[]).includes(option) || option === "center"
      ? "position"
      : option === "no-enlarge"
      ? "enlarge"
      : option.startsWith("bg=")
      ? "background"
      : isKernel(option)
      ? "kernel"
      : null;
    if (!kind) {
      throw new StepError(
        `unknown fit "${raw}" in "${text}": use a fit (${FITS.join(", ")}), a position (${
          POSITIONS.join(", ")
        }), no-enlarge, bg=COLOUR or a kernel (${KERNELS.join(", ")})`,
      );
    }
    if (seen.has(kind)) throw new StepError(`"${text}" gives the ${kind} twice`);
    seen.add(kind);
    if (kind === "fit") step.fit = option as Fit;
    if (kind === "position") step.position = option === "center" ? "centre" : option as Position;
    if (kind === "enlarge") step.enlarge = false;
    if (kind === "background") step.background = parseColour(option.slice(3));
    if (kind === "kernel") step.kernel = option as Kernel;
  }
  return step;
}

/**
 * Parses one `--op` value: `resize=WxH[:fit][:position][:no-enlarge][:bg=COLOUR][:kernel]`,
 * `to_gray` (or `gray`), `threshold=T` (0..255) or `flip=h|v|hv`.
 */
export function parseStep(text: string): Step {
  const [rawName, arg] = text.includes("=")
    ? [text.slice(0, text.indexOf("=")), text.slice(text.indexOf("=") + 1)]
    : [text, undefined];
  const name = rawName.trim().toLowerCase();
  switch (name) {
    case "resize":
      return parseResize(text, arg);
    case "to_gray":
    case "gray":
      if (arg !== undefined) {
        throw new StepError(`${name} takes no value, got "${text}"`);
      }
      return { op: "to_gray" };
    case "threshold": {
      const value = Number(arg);
      if (
        arg === undefined || arg.trim() === "" || !Number.isInteger(value) ||
        value < 0 || value > 255
      ) {
        throw new StepError(
          `threshold needs an integer 0..255, e.g. threshold=128, got "${text}"`,
        );
      }
      return { op: "threshold", value };
    }
    case "flip": {
      const axis = (arg ?? "").toLowerCase();
      if (axis !== "h" && axis !== "v" && axis !== "hv" && axis !== "vh") {
        throw new StepError(
          `flip needs h, v or hv, e.g. flip=h, got "${text}"`,
        );
      }
      return { op: "flip", axis: axis === "vh" ? "hv" : axis };
    }
    default:
      throw new StepError(
        `unknown operation "${rawName}": use resize=WxH[:fit], to_gray, threshold=T or flip=h|v|hv`,
      );
  }
}

/** Writes a step back in the `--op` syntax (for reports and help). */
export function formatStep(step: Step): string {
  switch (step.op) {
    case "resize":
      return [
        `resize=${step.width}x${step.height}`,
        ...(step.fit === "fill" ? [] : [step.fit]),
        ...(step.position && step.position !== "centre" ? [step.position] : []),
        ...(step.enlarge === false ? ["no-enlarge"] : []),
        ...(step.background ? [`bg=${formatColour(step.background)}`] : []),
        ...(step.kernel && step.kernel !== DEFAULT_KERNEL ? [step.kernel] : []),
      ].join(":");
    case "to_gray":
      return "to_gray";
    case "threshold":
      return `threshold=${step.value}`;
    case "flip":
      return `flip=${step.axis}`;
  }
}

/** Where a resized image lands: the scaled size and its offset in the output box. */
export interface ResizePlan {
  /** Size the source is scaled to. */
  scaledWidth: number;
  /** Size the source is scaled to. */
  scaledHeight: number;
  /** Final output size. */
  width: number;
  /** Final output size. */
  height: number;
  /** Offset of the scaled image in the output (negative: cropped, cover). */
  left: number;
  /** Offset of the scaled image in the output (negative: cropped, cover). */
  top: number;
}

/** How far along each axis a position puts the image: 0 start, 0.5 middle, 1 end. */
function positionFractions(position: Position = "centre"): [number, number] {
  const fx = position.endsWith("left") ? 0 : position.endsWith("right") ? 1 : 0.5;
  const fy = position.startsWith("top") ? 0 : position.startsWith("bottom") ? 1 : 0.5;
  return [fx, fy];
}

/** `space` (negative: cropped) times `fraction`, rounded down; never -0. */
function offset(space: number, fraction: number): number {
  return fraction === 0 ? 0 : Math.floor(space * fraction);
}

/**
 * Computes the geometry of a resize: `fill` stretches to exactly WxH;
 * `inside` keeps the aspect ratio within WxH; `contain` does the same and
 * pads to exactly WxH (opaque black bars by default, as sharp does);
 * `cover` keeps the aspect ratio, covers WxH and crops. `position` says
 * which part cover keeps and where contain puts the image (centre by
 * default). With `enlarge: false` the image is never scaled up: fill and
 * cover then give at most the source's size, inside and contain keep a
 * small image as it is (contain still pads it to WxH).
 */
export function planResize(
  srcWidth: number,
  srcHeight: number,
  step: Pick<ResizeStep, "width" | "height" | "fit" | "position" | "enlarge">,
): ResizePlan {
  const { fit } = step;
  const shrinkOnly = step.enlarge === false;
  if (fit === "fill") {
    const width = shrinkOnly ? Math.min(step.width, srcWidth) : step.width;
    const height = shrinkOnly ? Math.min(step.height, srcHeight) : step.height;
    return {
      scaledWidth: width,
      scaledHeight: height,
      width,
      height,
      left: 0,
      top: 0,
    };
  }
  let scale = fit === "cover"
    ? Math.max(step.width / srcWidth, step.height / srcHeight)
    : Math.min(step.width / srcWidth, step.height / srcHeight);
  if (shrinkOnly) scale = Math.min(1, scale);
  let scaledWidth = Math.max(1, Math.round(srcWidth * scale));
  let scaledHeight = Math.max(1, Math.round(srcHeight * scale));
  // Cover without enlarging a small image crops to what it has.
  const width = fit === "cover" && shrinkOnly ? Math.min(step.width, scaledWidth) : step.width;
  const height = fit === "cover" && shrinkOnly ? Math.min(step.height, scaledHeight) : step.height;
  if (fit === "cover") {
    scaledWidth = Math.max(width, scaledWidth);
    scaledHeight = Math.max(height, scaledHeight);
  } else {
    scaledWidth = Math.min(width, scaledWidth);
    scaledHeight = Math.min(height, scaledHeight);
  }
  if (fit === "inside") {
    return {
      scaledWidth,
      scaledHeight,
      width: scaledWidth,
      height: scaledHeight,
      left: 0,
      top: 0,
    };
  }
  const [fx, fy] = positionFractions(step.position);
  return {
    scaledWidth,
    scaledHeight,
    width,
    height,
    left: offset(width - scaledWidth, fx),
    top: offset(height - scaledHeight, fy),
  };
}

/** An image whose output (or a resize's intermediate) would pass `--max-pixels`. */
export class OutputTooLargeError extends Error {
  override name = "OutputTooLargeError";
}

/**
 * Throws {@link OutputTooLargeError} when the pipeline would make, from a
 * `width`x`height` image, an image of more than `maxPixels` pixels: the
 * result of any resize step, or the scaled image a `cover` resize crops
 * (other steps keep the size). Called with the decoded image's size,
 * before any of those pixels is allocated.
 */
export function checkOutputSize(
  width: number,
  height: number,
  steps: readonly Step[],
  maxPixels: number,
): void {
  for (const step of steps) {
    if (step.op !== "resize") continue;
    const plan = planResize(width, height, step);
    const made = plan.width * plan.height, scaled = plan.scaledWidth * plan.scaledHeight;
    if (made > maxPixels || scaled > maxPixels) {
      const [w, h, n] = scaled > made
        ? [plan.scaledWidth, plan.scaledHeight, scaled]
        : [plan.width, plan.height, made];
      throw new OutputTooLargeError(
        `${formatStep(step)} would make this ${width}x${height} image ${w}x${h} = ${
          overPixelLimit(n, maxPixels)
        } (--max-pixels)`,
      );
    }
    width = plan.width;
    height = plan.height;
  }
}

/**
 * Copies `src` into a new `width`x`height` image at (`left`, `top`); parts
 * outside are cut, uncovered pixels are `background` (RGBA; opaque black
 * by default).
 */
export function place(
  src: Image,
  width: number,
  height: number,
  left: number,
  top: number,
  background?: readonly [number, number, number, number],
): Image {
  return placeRgba(src, width, height, left, top, background);
}

/** Resizes one image following a resize step and its fit mode. */
export function resize(
  image: Image,
  step: Omit<ResizeStep, "op">,
): Image {
  assertImage(image);
  const plan = planResize(image.width, image.height, step);
  const unchanged = plan.scaledWidth === image.width && plan.scaledHeight === image.height &&
    plan.width === image.width && plan.height === image.height;
  if (unchanged) return image;
  const a = new Arena();
  return a.take(resizeStepAt(a, a.load(image), step));
}

/**
 * {@link resize} of an image resident in the kernels' memory (see
 * `ops/transcode.ts`). `size`: the size the image stands for when it was
 * decoded at a reduced scale; the geometry is that size's, so the output is
 * the same size either way.
 */
export function resizeStepAt(
  a: Arena,
  image: Resident,
  step: Omit<ResizeStep, "op">,
  size: { width: number; height: number } = image,
): Resident {
  const plan = planResize(size.width, size.height, step);
  const scaled = resizeAt(a, image, plan.scaledWidth, plan.scaledHeight, step.kernel);
  if (plan.width === plan.scaledWidth && plan.height === plan.scaledHeight) return scaled;
  return placeAt(a, scaled, plan.width, plan.height, plan.left, plan.top, step.background);
}

/** Applies one step. */
export function applyStep(image: Image, step: Step): Image {
  switch (step.op) {
    case "resize":
      return resize(image, step);
    case "to_gray":
      return grayRgba(image);
    case "threshold":
      return thresholdRgba(image, step.value);
    case "flip":
      return flipRgba(image, step.axis);
  }
}

/** Applies every step in order, calling `onStep` with each step's duration in ms. */
export function applyPipeline(
  image: Image,
  steps: readonly Step[],
  onStep?: (step: Step, ms: number) => void,
): Image {
  let current = image;
  for (const step of steps) {
    const started = performance.now();
    current = applyStep(current, step);
    onStep?.(step, performance.now() - started);
  }
  return current;
}
