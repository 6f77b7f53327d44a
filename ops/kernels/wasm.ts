/**
 * The kernels' WebAssembly module (AssemblyScript sources in
 * `assembly/kernels.ts`, built by `build.ts`): its raw exports, and the one
 * instance every call shares. It is instantiated once per process, at first
 * use, from bytes embedded in `kernels_wasm.ts` (no file access, no
 * permission, works inside `deno compile`). Internal to `ops/kernels`.
 *
 * @module
 */
import { KERNELS_WASM_BASE64 } from "./kernels_wasm.ts";

/** The arguments of the horizontal resize pass. */
type ResizeHArgs = [
  src: number,
  srcW: number,
  rows: number,
  dst: number,
  dstW: number,
  bounds: number,
  weights: number,
  taps: number,
];

/** The raw exports of the kernels module (internal to `ops/kernels`). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  gray(src: number, dst: number, n: number): void;
  threshold(src: number, dst: number, n: number, t: number): void;
  flip(
    src: number,
    dst: number,
    w: number,
    h: number,
    horizontal: number,
    vertical: number,
  ): void;
  resizeH(...args: ResizeHArgs): void;
  /** resizeH by transposed strips, with scratch `tmp` of (srcW + dstW + 8) * 128 bytes. */
  resizeHT(...args: [...ResizeHArgs, tmp: number]): void;
  /** resizeV (`src` of `srcW` pixels a row) then resizeHT, fused, with resizeHT's scratch `tmp`. */
  resizeVHT(
    src: number,
    srcW: number,
    vBounds: number,
    vWeights: number,
    vTaps: number,
    dst: number,
    dstW: number,
    dstH: number,
    hBounds: number,
    hWeights: number,
    hTaps: number,
    tmp: number,
  ): void;
  resizeV(
    src: number,
    rowBytes: number,
    dst: number,
    dstH: number,
    bounds: number,
    weights: number,
    taps: number,
  ): void;
  jpegColor(
    rgba: number,
    w: number,
    h: number,
    yp: number,
    cbp: number,
    crp: number,
    pw: number,
    ph: number,
  ): void;
  jpegDct(
    yp: number,
    cbp: number,
    crp: number,
    pw: number,
    ph: number,
    qy: number,
    qc: number,
    coef: number,
  ): void;
  jpegStats(coef: number, nMcu: number, freq: number, syms: number): number;
  jpegEmit(syms: number, n: number, huff: number, out: number): number;
  jpegDecodeScan(params: number): number;
  jpegToRgba(
    yp: number,
    ys: number,
    cbp: number,
    crp: number,
    cs: number,
    w: number,
    h: number,
    mode: number,
    out: number,
    tmp: number,
  ): void;
  pngUnfilter(p: number, prev: number, rows: number, stride: number, bpp: number): number;
  pngExpand(
    p: number,
    rows: number,
    stride: number,
    width: number,
    mode: number,
    palette: number,
    size: number,
    key: number,
    out: number,
  ): number;
}

let wasm: KernelExports | undefined;

/**
 * The instantiated kernels module (instantiated synchronously on first use).
 * Internal to `ops/kernels` (used by `jpeg_decode.ts`).
 */
export function kernels(): KernelExports {
  if (!wasm) {
    const module = new WebAssembly.Module(Uint8Array.fromBase64(KERNELS_WASM_BASE64));
    wasm = new WebAssembly.Instance(module, {})
      .exports as unknown as KernelExports;
  }
  return wasm;
}
