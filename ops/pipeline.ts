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
import {
  Arena,
  flipRgba,
  grayRgba,
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

/** One operation of the pipeline. */
export type Step =
  | { op: "resize"; width: number; height: number; fit: Fit }
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

/**
 * Parses one `--op` value: `resize=WxH[:fit]`, `to_gray` (or `gray`),
 * `threshold=T` (0..255) or `flip=h|v|hv`.
 */
export function parseStep(text: string): Step {
  const [rawName, arg] = text.includes("=")
    ? [text.slice(0, text.indexOf("=")), text.slice(text.indexOf("=") + 1)]
    : [text, undefined];
  const name = rawName.trim().toLowerCase();
  switch (name) {
    case "resize": {
      if (!arg) {
        throw new StepError(
          `resize needs a size: resize=WxH[:fit], e.g. resize=512x512`,
        );
      }
      const [size, fit = "fill"] = arg.split(":");
      if (!(FITS as readonly string[]).includes(fit)) {
        throw new StepError(
          `unknown fit "${fit}" in "${text}": use ${FITS.join(", ")}`,
        );
      }
      return { op: "resize", ...parseSize(size), fit: fit as Fit };
    }
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
      return `resize=${step.width}x${step.height}${step.fit === "fill" ? "" : ":" + step.fit}`;
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

/**
 * Computes the geometry of a resize: `fill` stretches to exactly WxH;
 * `inside` keeps the aspect ratio within WxH; `contain` does the same and
 * pads to exactly WxH (centred, opaque black bars as sharp does); `cover`
 * keeps the aspect ratio, covers WxH and crops the centre.
 */
export function planResize(
  srcWidth: number,
  srcHeight: number,
  step: { width: number; height: number; fit: Fit },
): ResizePlan {
  const { width, height, fit } = step;
  if (fit === "fill") {
    return {
      scaledWidth: width,
      scaledHeight: height,
      width,
      height,
      left: 0,
      top: 0,
    };
  }
  const scale = fit === "cover"
    ? Math.max(width / srcWidth, height / srcHeight)
    : Math.min(width / srcWidth, height / srcHeight);
  let scaledWidth = Math.max(1, Math.round(srcWidth * scale));
  let scaledHeight = Math.max(1, Math.round(srcHeight * scale));
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
  return {
    scaledWidth,
    scaledHeight,
    width,
    height,
    left: Math.floor((width - scaledWidth) / 2),
    top: Math.floor((height - scaledHeight) / 2),
  };
}

/**
 * Copies `src` into a new `width`x`height` image at (`left`, `top`); parts
 * outside are cut, uncovered pixels are opaque black.
 */
export function place(
  src: Image,
  width: number,
  height: number,
  left: number,
  top: number,
): Image {
  return placeRgba(src, width, height, left, top);
}

/** Resizes one image following a resize step and its fit mode. */
export function resize(
  image: Image,
  step: { width: number; height: number; fit: Fit },
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
  step: { width: number; height: number; fit: Fit },
  size: { width: number; height: number } = image,
): Resident {
  const plan = planResize(size.width, size.height, step);
  const scaled = resizeAt(a, image, plan.scaledWidth, plan.scaledHeight);
  if (plan.width === plan.scaledWidth && plan.height === plan.scaledHeight) return scaled;
  return placeAt(a, scaled, plan.width, plan.height, plan.left, plan.top);
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
