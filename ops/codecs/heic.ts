/**
 * HEIC/HEIF in: libheif (with libde265) in WASM, from `libheif-js` (the
 * build `heic-decode` wraps; used directly so that its `.wasm` is read from
 * node_modules instead of a 2 MB base64 bundle, and so that its messages are
 * not printed). Loaded on first need. libheif applies the container's
 * transforms (`clap`, `irot`, `imir`) while decoding, so the image comes out
 * upright; an EXIF orientation inside the file is not applied again.
 *
 * @module
 */

import type { Image } from "../image.ts";
import { compileWasm, loadCodec } from "./wasm.ts";
import { importNpm } from "../npm.ts";

interface HeifError {
  code: unknown;
  message?: string;
}

/** An embind handle object (an error object when it has a `code`). */
type Handle = object;

interface Channel {
  id: number;
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}

interface Libheif {
  heif_context_alloc(): number;
  heif_context_free(ctx: number): void;
  heif_context_read_from_memory(ctx: number, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(ctx: number): Handle | HeifError;
  heif_image_handle_release(handle: Handle): void;
  heif_image_handle_get_width(handle: Handle): number;
  heif_image_handle_get_height(handle: Handle): number;
  heif_js_decode_image2(
    handle: Handle,
    colorspace: number,
    chroma: number,
  ): { image: number; channels: Channel[] } | HeifError | null;
  heif_image_release(image: number): void;
  heif_error_code: { heif_error_Ok: unknown };
  heif_colorspace: { heif_colorspace_RGB: number };
  heif_chroma: { heif_chroma_interleaved_RGBA: number };
  heif_channel: { heif_channel_interleaved: number };
}

let loading:
  | Promise<{ factory: (o: object) => Promise<Libheif>; module: WebAssembly.Module }>
  | null = null;
let instance: Libheif | null = null;

async function libheif(): Promise<Libheif> {
  if (instance) return instance;
  loading ??= loadCodec("HEIF decoder (libheif)", async () => {
    const [glue, module] = await Promise.all([
      importNpm<typeof import("libheif-js/libheif-wasm/libheif.js")>(
        "libheif-js/libheif-wasm/libheif.js",
      ),
      compileWasm("libheif-js/libheif-wasm/libheif.wasm"),
    ]);
    return { factory: glue.default as unknown as (o: object) => Promise<Libheif>, module };
  });
  loading.catch(() => (loading = null));
  const { factory, module } = await loading;
  instance = await factory({
    instantiateWasm: (
      imports: WebAssembly.Imports,
      callback: (i: WebAssembly.Instance) => void,
    ) => {
      const i = new WebAssembly.Instance(module, imports);
      callback(i);
      return i.exports;
    },
    print: () => {},
    printErr: () => {},
  });
  return instance;
}

/** Decodes a HEIF file's primary image to upright RGBA; throws an Error with libheif's reason. */
export async function decodeHeic(bytes: Uint8Array): Promise<Image> {
  const h = await libheif();
  let ctx = 0, image = 0;
  let handle: Handle | null = null;
  try {
    ctx = h.heif_context_alloc();
    if (!ctx) throw new Error("HEIF decoder out of memory");
    const read = h.heif_context_read_from_memory(ctx, bytes);
    if (read.code !== h.heif_error_code.heif_error_Ok) {
      throw new Error(`corrupt HEIF data (${read.message ?? "unreadable"})`);
    }
    const got = h.heif_js_context_get_primary_image_handle(ctx);
    if (!got || "code" in got) {
      throw new Error(`HEIF file has no primary image (${(got as HeifError)?.message ?? "none"})`);
    }
    handle = got;
    const decoded = h.heif_js_decode_image2(
      handle,
      h.heif_colorspace.heif_colorspace_RGB,
      h.heif_chroma.heif_chroma_interleaved_RGBA,
    );
    if (!decoded || !("channels" in decoded)) {
      const why = decoded && "message" in decoded ? decoded.message : "decoding failed";
      throw new Error(`corrupt or unsupported HEIF data (${why})`);
    }
    image = decoded.image;
    const ch = decoded.channels.find((c) => c.id === h.heif_channel.heif_channel_interleaved);
    if (!ch) throw new Error("HEIF decoder returned no RGBA plane");
    const { width, height } = ch;
    const data = new Uint8Array(width * height * 4);
    if (ch.stride === width * 4) data.set(ch.data.subarray(0, data.length));
    else {
      for (let y = 0; y < height; y++) {
        data.set(ch.data.subarray(y * ch.stride, y * ch.stride + width * 4), y * width * 4);
      }
    }
    return { width, height, data };
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) instance = null; // aborted: a fresh one next time
    throw e;
  } finally {
    if (instance) {
      if (image) h.heif_image_release(image);
      if (handle) h.heif_image_handle_release(handle);
      if (ctx) h.heif_context_free(ctx);
    }
  }
}
