/**
 * The kernels' memory: one growable WebAssembly memory serves every call.
 * Each call copies its input in once, works in place and copies its result
 * out once (callers own it); the fused path (`ops/transcode.ts`) keeps an
 * image resident from decode to encode instead.
 *
 * @module
 */
import { assertImage, type Image } from "../image.ts";
import { type KernelExports, kernels } from "./wasm.ts";

const SLACK = 64;

/**
 * An RGBA image held in the kernels' memory: `width * height * 4` bytes at
 * byte offset `ptr` of an {@link Arena}. Internal to `ops` (the fused
 * pipeline in `ops/transcode.ts` keeps images resident from decode to
 * encode; the exported functions below copy in and out).
 */
export interface Resident {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Byte offset of the first pixel in the kernels' memory. */
  ptr: number;
}

/**
 * Bump allocator over the wasm memory for one call (or one fused chain of
 * calls): it starts again at the heap base each time, so nothing is freed
 * and the memory, once grown, is reused by every later call. Allocations
 * grow the memory at once; take byte views ({@link Arena.view}) after the
 * allocations they cover. Internal to `ops`.
 */
export class Arena {
  top: number;
  constructor(readonly k: KernelExports = kernels()) {
    this.top = (k.heapBase() + 15) & ~15;
  }
  /** Reserves `bytes` (plus slack for SIMD reads and writes past the end). */
  alloc(bytes: number): number {
    const p = this.top;
    this.top = (p + bytes + SLACK + 15) & ~15;
    const mem = this.k.memory;
    const have = mem.buffer.byteLength;
    if (this.top > have) mem.grow(Math.ceil((this.top - have) / 65536));
    return p;
  }
  /** A fresh byte view of the whole memory (valid until the next growth). */
  view(): Uint8Array {
    return new Uint8Array(this.k.memory.buffer);
  }
  /** Copies an image in; returns it resident. */
  load(src: Image): Resident {
    const ptr = this.alloc(src.data.length);
    this.view().set(src.data, ptr);
    return { width: src.width, height: src.height, ptr };
  }
  /** Copies a resident image out into a new {@link Image}. */
  take(r: Resident): Image {
    const n = r.width * r.height * 4;
    return { width: r.width, height: r.height, data: this.view().slice(r.ptr, r.ptr + n) };
  }
}

/**
 * Runs `f` on a copy of `src` in the kernels' memory; returns its result
 * copied out. Internal to `ops/kernels` (the copying wrappers use it).
 */
export function roundTrip(src: Image, f: (a: Arena, r: Resident) => Resident): Image {
  assertImage(src);
  const a = new Arena();
  return a.take(f(a, a.load(src)));
}
