/**
 * The codec libraries zpix decodes and encodes with, typed: MozJPEG and PNG
 * glue from `@jsquash`, jpeg-js for CMYK (`cmyk.ts`), imported on first
 * need, and where their `.wasm` files come from. Internal to `ops/codec.ts`,
 * which instantiates them once per process (see its module comment).
 *
 * @module
 */

import { importNpm } from "./npm.ts";

/** A `.wasm` file's bytes or an already compiled module. */
export type WasmSource = WebAssembly.Module | BufferSource;

/** Optional WASM sources for {@link initCodecs}; missing ones are read from the npm packages. */
export interface CodecWasm {
  /** `@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm` */
  jpegDecoder?: WasmSource;
  /** `@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm` */
  jpegEncoder?: WasmSource;
  /** `@jsquash/png/codec/pkg/squoosh_png_bg.wasm` */
  png?: WasmSource;
}

/** The npm paths of the three WASM files, resolved through the import map. */
export const CODEC_WASM_SPECIFIERS: Readonly<Record<keyof CodecWasm, string>> = {
  jpegDecoder: "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm",
  jpegEncoder: "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm",
  png: "@jsquash/png/codec/pkg/squoosh_png_bg.wasm",
};

/** MozJPEG's encoder options (jsquash's defaults' shape). */
export type MozJpegEncodeOptions = typeof import("@jsquash/jpeg/meta.js")["defaultOptions"];

/** The MozJPEG decoder glue's instance. */
export interface MozJpegDecoder {
  decode(data: Uint8Array, preserveOrientation: boolean): ImageData | null;
}

/** The MozJPEG encoder glue's instance. */
export interface MozJpegEncoder {
  encode(
    data: Uint8Array,
    width: number,
    height: number,
    options: MozJpegEncodeOptions,
  ): Uint8Array;
}

/** jsquash's `initEmscriptenModule`, typed for one glue. */
export type EmscriptenInit<T> = (
  factory: unknown,
  wasmModule: WebAssembly.Module,
  overrides: { print: (s: string) => void; printErr: (s: string) => void },
) => Promise<T>;

/** The wasm-bindgen export we need to repair the PNG module after a throw. */
export interface PngWasmExports {
  __wbindgen_add_to_stack_pointer(delta: number): number;
}

/**
 * The codec libraries (MozJPEG and PNG glue from @jsquash, jpeg-js for CMYK),
 * imported on first need: a run that meets only baseline JPEGs (our own
 * decoder and encoder) never loads or evaluates them, which saves every
 * process that starts (a worker, a sequential run, the broker) their load.
 */
export async function loadLibraries() {
  const [utils, dec, enc, meta, png, jpegJs, cmyk] = await Promise.all([
    importNpm<typeof import("@jsquash/jpeg/utils.js")>("@jsquash/jpeg/utils.js"),
    importNpm<typeof import("@jsquash/jpeg/codec/dec/mozjpeg_dec.js")>(
      "@jsquash/jpeg/codec/dec/mozjpeg_dec.js",
    ),
    importNpm<typeof import("@jsquash/jpeg/codec/enc/mozjpeg_enc.js")>(
      "@jsquash/jpeg/codec/enc/mozjpeg_enc.js",
    ),
    importNpm<typeof import("@jsquash/jpeg/meta.js")>("@jsquash/jpeg/meta.js"),
    importNpm<typeof import("@jsquash/png/codec/pkg/squoosh_png.js")>(
      "@jsquash/png/codec/pkg/squoosh_png.js",
    ),
    importNpm<typeof import("jpeg-js/lib/decoder.js")>("jpeg-js/lib/decoder.js"),
    import("./cmyk.ts"),
  ]);
  return {
    initEmscriptenModule: utils.initEmscriptenModule,
    mozjpegDecFactory: dec.default,
    mozjpegEncFactory: enc.default,
    mozjpegDefaultOptions: meta.defaultOptions,
    pngDecode: png.decode,
    pngEncode: png.encode,
    pngInitSync: png.initSync,
    decodeCmykJpeg: (bytes: Uint8Array, maxPixels: number) =>
      cmyk.decodeCmykJpeg(jpegJs.default, bytes, maxPixels),
  };
}

/** What {@link loadLibraries} gives. */
export type Libraries = Awaited<ReturnType<typeof loadLibraries>>;

/**
 * Compiles a codec's WASM: a given module as is, given bytes, or else the
 * file `specifier` names in its npm package.
 */
export async function compileSource(
  source: WasmSource | undefined,
  specifier: string,
): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source) return await WebAssembly.compile(source);
  const url = new URL(import.meta.resolve(specifier));
  const bytes = url.protocol === "file:"
    ? await Deno.readFile(url)
    : new Uint8Array(await (await fetch(url)).arrayBuffer());
  return await WebAssembly.compile(bytes);
}
