/**
 * Where the fast JPEG decoder (jpeg_decode.ts, jpeg_progressive.ts) puts
 * each component's decoded samples at some scale, and the colour conversion
 * of those planes to RGBA (the kernels' `jpegToRgba`, `jpegCmykToRgba`).
 *
 * @module
 */
import type { Arena } from "./arena.ts";
import type { Frame, Header, MarkerState } from "./jpeg_markers.ts";

/** Is the colour space YCbCr (not RGB) by libjpeg's rules for 3 components? */
function isYcc(h: Header): boolean {
  if (h.jfif) return true;
  if (h.adobeTransform !== null) return h.adobeTransform !== 0;
  const ids = h.frame.components.map((c) => c.id).join();
  return ids !== "82,71,66";
}

/** Sampling mode of the kernels' `jpegToRgba`: 0 gray, 1 4:4:4, 2 4:2:2, 3 4:2:0; -1 other. */
function samplingMode(f: Frame): number {
  if (f.components.length === 1) return 0;
  const [y, cb, cr] = f.components;
  if (cb.h !== 1 || cb.v !== 1 || cr.h !== 1 || cr.v !== 1) return -1;
  if (y.h === 1 && y.v === 1) return 1;
  // libjpeg upsamples plainly (not fancy) when the chroma is 2 samples wide or less
  if (f.width <= 4) return -1;
  if (y.h === 2 && y.v === 1) return 2;
  if (y.h === 2 && y.v === 2) return 3;
  return -1;
}

/**
 * Per-component modes of the kernels' `jpegCmykToRgba` for a 4-component
 * frame (1 full size, 2 half width, 3 half both ways), or null for other
 * samplings (and, as above, for half-width planes 2 samples wide or less).
 */
function cmykModes(f: Frame): number[] | null {
  const hmax = Math.max(...f.components.map((c) => c.h));
  const vmax = Math.max(...f.components.map((c) => c.v));
  const modes = f.components.map((c) =>
    c.h === hmax && c.v === vmax
      ? 1
      : 2 * c.h === hmax && c.v === vmax
      ? 2
      : 2 * c.h === hmax && 2 * c.v === vmax
      ? 3
      : -1
  );
  if (modes.includes(-1) || (f.width <= 4 && modes.some((m) => m > 1))) return null;
  return modes;
}

/** Where a decode at some scale puts each component's samples. */
export interface Layout {
  /** Output size (the frame's, divided by the scale and rounded up). */
  width: number;
  height: number;
  /** `jpegToRgba`'s mode for 1 or 3 components; 4 for CMYK/YCCK. */
  mode: number;
  /** `jpegCmykToRgba`'s mode per component (4 components only). */
  cmykModes: number[];
  /** 4 components: YCCK (Adobe transform not 0) rather than CMYK. */
  ycck: boolean;
  mcusX: number;
  mcusY: number;
  /** Per component: sampling (1, 1 for gray), plane row stride and bytes, blocks across and down. */
  planes: { h: number; v: number; stride: number; bytes: number; bw: number; bh: number }[];
}

/** The layout of a decode of `h`'s frame at 1/`scale`, or null when the kernels do not take it. */
export function planLayout(h: MarkerState & { frame: Frame }, scale: 1 | 2 | 4 | 8): Layout | null {
  const frame = h.frame;
  const { width: fullWidth, height: fullHeight } = frame;
  const width = Math.ceil(fullWidth / scale), height = Math.ceil(fullHeight / scale);
  const comps = frame.components;
  let mode: number, modes: number[] = [];
  let ycck = false;
  if (comps.length === 4) {
    // the Adobe convention (inverted inks) is the only one known for sure
    if (h.adobeTransform === null) return null;
    const m = cmykModes({ ...frame, width });
    if (!m) return null;
    modes = m;
    mode = 4;
    ycck = h.adobeTransform !== 0;
  } else {
    if (comps.length === 3 && !isYcc(h as Header)) return null;
    mode = samplingMode({ ...frame, width });
    if (mode < 0) return null;
  }
  const gray = comps.length === 1;
  const hmax = gray ? 1 : Math.max(...comps.map((c) => c.h));
  const vmax = gray ? 1 : Math.max(...comps.map((c) => c.v));
  const mcusX = Math.ceil(fullWidth / (8 * hmax)), mcusY = Math.ceil(fullHeight / (8 * vmax));
  const block = 8 / scale; // samples per block side in the planes
  const planes = comps.map((c) => {
    const ch = gray ? 1 : c.h, cv = gray ? 1 : c.v;
    const bw = mcusX * ch, bh = mcusY * cv;
    const stride = bw * block;
    return { h: ch, v: cv, stride, bytes: stride * bh * block, bw, bh };
  });
  return { width, height, mode, cmykModes: modes, ycck, mcusX, mcusY, planes };
}

/**
 * Colour conversion of decoded planes (at `ptrs`) to RGBA at `out`, with
 * `tmp` scratch of {@link rgbaScratchBytes} bytes.
 */
export function planesToRgba(a: Arena, l: Layout, ptrs: number[], out: number, tmp: number) {
  const k = a.k;
  if (l.mode === 4) {
    const p = a.alloc(64);
    const dv = new DataView(a.view().buffer);
    for (let c = 0; c < 4; c++) {
      dv.setInt32(p + 16 * c, ptrs[c], true);
      dv.setInt32(p + 16 * c + 4, l.planes[c].stride, true);
      dv.setInt32(p + 16 * c + 8, l.cmykModes[c], true);
    }
    (k as typeof k & CmykKernels).jpegCmykToRgba(p, l.width, l.height, l.ycck ? 1 : 0, out, tmp);
    return;
  }
  k.jpegToRgba(
    ptrs[0],
    l.planes[0].stride,
    ptrs[1] ?? 0,
    ptrs[2] ?? 0,
    l.planes[1]?.stride ?? 0,
    l.width,
    l.height,
    l.mode,
    out,
    tmp,
  );
}

/** Scratch bytes {@link planesToRgba} needs for an image `width` wide. */
export function rgbaScratchBytes(width: number): number {
  return 20 * width + 512;
}

/** The kernels' exports this module adds to `KernelExports` (in `wasm.ts`). */
type CmykKernels = {
  jpegCmykToRgba(p: number, w: number, h: number, ycck: number, out: number, tmp: number): void;
};
