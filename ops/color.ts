/**
 * Colour management: converting decoded pixels from their embedded ICC
 * profile to sRGB with LittleCMS (`lcms-wasm`, LittleCMS 2.16 in WASM).
 *
 * Cost: nothing for an image without a profile or with an sRGB one
 * ({@link isSrgbProfile} answers from the profile's bytes, without the CMS).
 * LittleCMS is imported and compiled on the first profile that needs it
 * (~0.2 s once per process), and a transform is built once per distinct
 * profile (cached by content), so a folder of Display P3 photos pays one
 * transform build and then one pass over the pixels per image.
 *
 * Intent: perceptual, like Pillow's `ImageCms.profileToProfile` default (for
 * the matrix/shaper profiles of nearly all photos every intent gives the same
 * result: relative colorimetric, clipping out-of-gamut colours). Alpha is
 * copied unchanged.
 *
 * @module
 */

import type { Image } from "./image.ts";
import { describeIcc, isSrgbProfile, summariseIcc } from "./icc.ts";
import { loadCodec } from "./codecs/wasm.ts";
import { importNpm } from "./npm.ts";

type Lcms = Awaited<ReturnType<typeof import("lcms-wasm")["instantiate"]>>;
type LcmsModule = typeof import("lcms-wasm");

interface Cms {
  lib: LcmsModule;
  lcms: Lcms;
  srgb: number;
}

let cmsPromise: Promise<Cms> | null = null;

/** Loads LittleCMS once per process (the `.wasm` read from node_modules: `--allow-read` there). */
function cms(): Promise<Cms> {
  cmsPromise ??= loadCodec("colour management (LittleCMS)", async () => {
    const lib = await importNpm<typeof import("lcms-wasm")>("lcms-wasm");
    const url = new URL(import.meta.resolve("lcms-wasm/dist/lcms.wasm"));
    const wasmBinary = url.protocol === "file:"
      ? await Deno.readFile(url)
      : new Uint8Array(await (await fetch(url)).arrayBuffer());
    const lcms = await lib.instantiate(
      {
        wasmBinary,
        print: () => {},
        printErr: () => {},
      } as Parameters<typeof lib.instantiate>[0],
    );
    return { lib, lcms, srgb: lcms.cmsCreate_sRGBProfile() };
  });
  cmsPromise.catch(() => {
    cmsPromise = null;
  });
  return cmsPromise;
}

/** A built transform and what it takes. */
interface Transform {
  handle: number;
  kind: "rgb" | "gray" | "cmyk";
}

/** Transforms by profile content; a handful of distinct profiles per run is the norm. */
const transforms = new Map<string, Transform | null>();
const MAX_TRANSFORMS = 16;

function profileKey(icc: Uint8Array): string {
  // The profile ID (MD5, header bytes 84..99) when set, else a cheap content hash.
  let h = 0x811c9dc5;
  for (let i = 0; i < icc.length; i++) h = Math.imul(h ^ icc[i], 0x01000193);
  return `${icc.length}:${(h >>> 0).toString(16)}`;
}

/** What {@link convertToSrgb} did. */
export interface ColorResult {
  /** The converted image (the input itself when nothing was done). */
  image: Image;
  /** A note for the report, e.g. "converted from ICC profile "Display P3" to sRGB"; null when nothing was done. */
  note: string | null;
  /** A warning, e.g. an unreadable or unsupported profile (pixels then taken as sRGB). */
  warning: string | null;
}

/** True when `icc` would make {@link convertToSrgb} do any work. */
export function needsConversion(icc: Uint8Array | null): icc is Uint8Array {
  return icc !== null && !isSrgbProfile(icc);
}

/**
 * Converts `image` (RGBA, its colours in the space `icc` describes) to sRGB.
 * Returns it unchanged without touching the CMS when `icc` is null or sRGB.
 * An RGB or gray profile is converted; a profile LittleCMS cannot read, or
 * one of another colour space (CMYK on an image already turned to RGB), is
 * reported as a warning and the pixels are kept as they are.
 */
export async function convertToSrgb(image: Image, icc: Uint8Array | null): Promise<ColorResult> {
  if (!needsConversion(icc)) return { image, note: null, warning: null };
  const summary = summariseIcc(icc);
  const name = describeIcc(icc) || "unnamed";
  if (!summary) {
    return {
      image,
      note: null,
      warning: "ignored an unreadable ICC profile (pixels taken as sRGB)",
    };
  }
  if (summary.colorSpace !== "RGB " && summary.colorSpace !== "GRAY") {
    return {
      image,
      note: null,
      warning:
        `ignored ICC profile "${name}" for ${summary.colorSpace.trim()} data (pixels taken as sRGB)`,
    };
  }
  const c = await cms();
  try {
    return convertWith(c, image, icc, summary.colorSpace, name);
  } catch (e) {
    // An abort inside LittleCMS (a hostile profile, memory): a fresh instance next time.
    cmsPromise = null;
    transforms.clear();
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return {
      image,
      note: null,
      warning: `ignored ICC profile "${name}": LittleCMS failed (${why}); pixels taken as sRGB`,
    };
  }
}

function convertWith(
  c: Cms,
  image: Image,
  icc: Uint8Array,
  colorSpace: string,
  name: string,
): ColorResult {
  const kind = colorSpace === "GRAY" ? "gray" : colorSpace === "CMYK" ? "cmyk" : "rgb";
  const key = `${kind}:${profileKey(icc)}`;
  let t = transforms.get(key);
  if (t === undefined) {
    t = buildTransform(c, icc, kind);
    if (transforms.size >= MAX_TRANSFORMS) {
      const [oldKey, old] = transforms.entries().next().value!;
      if (old) c.lcms.cmsDeleteTransform(old.handle);
      transforms.delete(oldKey);
    }
    transforms.set(key, t);
  }
  if (!t) {
    return {
      image,
      note: null,
      warning: `ignored ICC profile "${name}": LittleCMS cannot use it (pixels taken as sRGB)`,
    };
  }
  const data = transform(c, t, image);
  return {
    image: { width: image.width, height: image.height, data },
    note: `converted from ICC profile "${name}" to sRGB`,
    warning: null,
  };
}

function buildTransform(c: Cms, icc: Uint8Array, kind: Transform["kind"]): Transform | null {
  const { lib, lcms } = c;
  const profile = lcms.cmsOpenProfileFromMem(icc, icc.length);
  if (!profile) return null;
  try {
    // RGB in, RGB out, alpha copied by us: LittleCMS's packed 3-byte path is a third faster
    // than RGBA with cmsFLAGS_COPY_ALPHA (measured, CPU time), more than the repacking costs.
    const input = kind === "gray"
      ? lib.TYPE_GRAY_8
      : kind === "cmyk"
      ? lib.TYPE_CMYK_8
      : lib.TYPE_RGB_8;
    const handle = lcms.cmsCreateTransform(
      profile,
      input,
      c.srgb,
      lib.TYPE_RGB_8,
      lib.INTENT_PERCEPTUAL,
      0,
    );
    return handle ? { handle, kind } : null;
  } finally {
    lcms.cmsCloseProfile(profile);
  }
}

/**
 * Pixels per `cmsDoTransform` call: lcms-wasm copies each call's input and
 * output through LittleCMS's heap, which grows to fit and never shrinks, so
 * a 24-megapixel photo goes through in slices (8 MB of heap, not 200 MB).
 */
const SLICE_PIXELS = 1 << 20;

/**
 * A synchronous in-place RGBA converter from `icc` to sRGB, for the fused
 * JPEG path (which runs without awaiting): LittleCMS is loaded and the
 * transform built here. Null when the profile needs no work, or is not an
 * RGB profile LittleCMS can use (the general path then says why).
 */
export async function srgbConverter(
  icc: Uint8Array | null,
): Promise<((rgba: Uint8Array) => void) | null> {
  if (!needsConversion(icc) || summariseIcc(icc)?.colorSpace !== "RGB ") return null;
  const c = await cms();
  const key = `rgb:${profileKey(icc)}`;
  let t = transforms.get(key);
  if (t === undefined) transforms.set(key, t = buildTransform(c, icc, "rgb"));
  if (!t) return null;
  const ready = t;
  return (rgba) => {
    const n = rgba.length >> 2;
    rgba.set(transform(c, ready, { width: n, height: 1, data: rgba }));
  };
}

/**
 * Converts CMYK samples (4 bytes a pixel, 0 = no ink; invert Adobe/Photoshop
 * JPEG data first) to sRGB RGBA through a CMYK ICC profile, for a CMYK JPEG
 * decoder that hands out its inks (jpeg-js, used today, gives only its own
 * naive RGB). Throws when LittleCMS cannot use the profile; the caller then
 * falls back to the naive conversion.
 */
export async function convertCmykToSrgb(
  cmyk: Uint8Array,
  width: number,
  height: number,
  icc: Uint8Array,
): Promise<Image> {
  const summary = summariseIcc(icc);
  if (summary?.colorSpace !== "CMYK") throw new Error("not a CMYK ICC profile");
  if (cmyk.length !== width * height * 4) throw new RangeError("CMYK data size mismatch");
  const c = await cms();
  const key = `cmyk:${profileKey(icc)}`;
  let t = transforms.get(key);
  if (t === undefined) transforms.set(key, t = buildTransform(c, icc, "cmyk"));
  if (!t) throw new Error("LittleCMS cannot use this CMYK profile");
  return { width, height, data: transform(c, t, { width, height, data: cmyk }) };
}

function transform(c: Cms, t: Transform, image: Image): Uint8Array {
  const n = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(n * 4);
  for (let first = 0; first < n; first += SLICE_PIXELS) {
    const count = Math.min(SLICE_PIXELS, n - first);
    let input: Uint8Array;
    if (t.kind === "cmyk") input = src.subarray(first * 4, (first + count) * 4);
    else if (t.kind === "gray") {
      input = new Uint8Array(count);
      for (let i = 0; i < count; i++) input[i] = src[4 * (first + i)];
    } else {
      input = new Uint8Array(count * 3);
      for (let i = 0, o = first * 4; i < count * 3; i += 3, o += 4) {
        input[i] = src[o];
        input[i + 1] = src[o + 1];
        input[i + 2] = src[o + 2];
      }
    }
    const rgb = c.lcms.cmsDoTransform(t.handle, input, count) as Uint8Array;
    const opaque = t.kind === "cmyk";
    for (let i = 0, o = first * 4; i < count * 3; i += 3, o += 4) {
      out[o] = rgb[i];
      out[o + 1] = rgb[i + 1];
      out[o + 2] = rgb[i + 2];
      out[o + 3] = opaque ? 255 : src[o + 3];
    }
  }
  return out;
}
