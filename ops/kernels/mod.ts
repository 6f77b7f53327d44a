/**
 * Fast image kernels in WebAssembly SIMD: resize, gray, threshold, flips
 * (`pixels.ts`) and a baseline JPEG encoder (`jpeg_encode.ts`), on one
 * shared memory (`arena.ts`) of one module instance (`wasm.ts`). All
 * functions are synchronous. The JPEG decoder is `jpeg_decode.ts`.
 *
 * @module
 */
export { type KernelExports, kernels } from "./wasm.ts";
export { Arena, type Resident } from "./arena.ts";
export * from "./pixels.ts";
export * from "./jpeg_encode.ts";
export { DEFAULT_KERNEL, isKernel, type Kernel, KERNELS } from "./filters.ts";
