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

/** Where a decode at some scale puts each component's samples. */
export interface Layout {
  /** Output size (the frame's, divided by the scale and rounded up). */
  width: number;
  height: number;
  /**
   * `jpegToRgba`'s mode for 1 or 3 components (0 gray, 1 4:4:4, 2 4:2:2,
   * 3 4:2:0, 4 4:2:2 upsampled plainly); -1 for 4 components.
   */
  mode: number;
  /** `jpegCmykToRgba`'s mode per component (4 components only). */
  cmykModes: number[];
  /** 4 components: YCCK (Adobe transform not 0) rather than CMYK. */
  ycck: boolean;
  /** 4 components: output the inks (C, M, Y, K; 0 = none) instead of RGB, for an ICC profile. */
  inks?: boolean;
  mcusX: number;
  mcusY: number;
  /**
   * Per component: sampling (1, 1 for gray), block size in the plane as a
   * shift (8 >> shift samples a side), plane row stride and bytes, blocks
   * across and down.
   */
  planes: {
    h: number;
    v: number;
    shift: number;
    stride: number;
    bytes: number;
    bw: number;
    bh: number;
  }[];
}

/**
 * The layout of a decode of `h`'s frame at 1/`scale`, or null when the
 * kernels do not take it. As libjpeg(-turbo) does: each component's blocks
 * are decoded at 8 / `scale` samples a side, or at twice (four times...)
 * that while this spares upsampling it (so 4:2:0 chroma at 1/2 takes the
 * full 8x8 IDCT and needs no upsampling); what still needs upsampling (by
 * 2, across or both ways) is upsampled fancily, or plainly at 1/8.
 */
export function planLayout(h: MarkerState & { frame: Frame }, scale: 1 | 2 | 4 | 8): Layout | null {
  const frame = h.frame;
  const { width: fullWidth, height: fullHeight } = frame;
  const width = Math.ceil(fullWidth / scale), height = Math.ceil(fullHeight / scale);
  const comps = frame.components;
  const nf = comps.length;
  if (nf === 3 && !isYcc(h as Header)) return null;
  // the Adobe convention (inverted inks) is the only one known for sure
  if (nf === 4 && h.adobeTransform === null) return null;
  const gray = nf === 1;
  const hmax = gray ? 1 : Math.max(...comps.map((c) => c.h));
  const vmax = gray ? 1 : Math.max(...comps.map((c) => c.v));
  const mcusX = Math.ceil(fullWidth / (8 * hmax)), mcusY = Math.ceil(fullHeight / (8 * vmax));
  const min = 8 / scale; // libjpeg's min_DCT_scaled_size
  const planes = comps.map((c) => {
    const ch = gray ? 1 : c.h, cv = gray ? 1 : c.v;
    let size = min;
    while (
      size < 8 && (hmax * min) % (ch * size * 2) === 0 && (vmax * min) % (cv * size * 2) === 0
    ) size *= 2;
    const bw = mcusX * ch, bh = mcusY * cv;
    const stride = bw * size;
    return { h: ch, v: cv, shift: Math.log2(8 / size), stride, bytes: stride * bh * size, bw, bh };
  });
  // per component: how much it is to be upsampled, across and down
  const fancy = min > 1;
  const modes = planes.map((p) => {
    const x = (hmax * min) / (p.h * (8 >> p.shift)), y = (vmax * min) / (p.v * (8 >> p.shift));
    if (x === 1 && y === 1) return 1;
    // libjpeg upsamples plainly (not fancy) when the plane is 2 samples wide or less
    if (width <= 4) return -1;
    if (x === 2 && y === 1) return fancy ? 2 : 4;
    if (x === 2 && y === 2 && fancy) return 3;
    return -1;
  });
  if (modes.includes(-1)) return null;
  const layout = { width, height, cmykModes: [] as number[], ycck: false, mcusX, mcusY, planes };
  if (nf === 4) {
    return { ...layout, mode: -1, cmykModes: modes, ycck: h.adobeTransform !== 0 };
  }
  if (gray) return { ...layout, mode: 0 };
  // Y full size, both chroma planes alike
  if (modes[0] !== 1 || modes[1] !== modes[2]) return null;
  return { ...layout, mode: modes[1] === 4 ? 4 : modes[1] };
}

/**
 * Colour conversion of decoded planes (at `ptrs`) to RGBA at `out`, with
 * `tmp` scratch of {@link rgbaScratchBytes} bytes.
 */
export function planesToRgba(a: Arena, l: Layout, ptrs: number[], out: number, tmp: number) {
  const k = a.k;
  if (l.mode === -1) {
    const p = a.alloc(64);
    const dv = new DataView(a.view().buffer);
    for (let c = 0; c < 4; c++) {
      dv.setInt32(p + 16 * c, ptrs[c], true);
      dv.setInt32(p + 16 * c + 4, l.planes[c].stride, true);
      dv.setInt32(p + 16 * c + 8, l.cmykModes[c], true);
    }
    (k as typeof k & CmykKernels).jpegCmykToRgba(
      p,
      l.width,
      l.height,
      (l.ycck ? 1 : 0) | (l.inks ? 2 : 0),
      out,
      tmp,
    );
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
  jpegCmykToRgba(p: number, w: number, h: number, flags: number, out: number, tmp: number): void;
};
