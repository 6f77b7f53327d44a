/**
 * GIF in: the first frame, composited on a transparent canvas of the
 * logical screen size, with `omggif` (plain JavaScript, ~8 KB, loaded on
 * first need). Later frames of an animation are ignored.
 *
 * @module
 */

import type { Image } from "../image.ts";
import { loadCodec } from "./wasm.ts";
import { importNpm } from "../npm.ts";

/** True for the GIF87a / GIF89a signature. */
export function isGif(b: Uint8Array): boolean {
  return b.length >= 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 &&
    (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61;
}

/** The logical screen size from the header, or null. */
export function readGifSize(b: Uint8Array): { width: number; height: number } | null {
  if (!isGif(b)) return null;
  return { width: b[6] | (b[7] << 8), height: b[8] | (b[9] << 8) };
}

/** Decodes the first frame to RGBA; throws an Error with a short reason on bad data. */
export async function decodeGif(
  bytes: Uint8Array,
): Promise<{ image: Image; warnings: string[] }> {
  const { GifReader } = await loadCodec(
    "GIF decoder (omggif)",
    () => importNpm<typeof import("omggif")>("omggif"),
  );
  let reader: InstanceType<typeof GifReader>;
  try {
    reader = new GifReader(bytes);
  } catch (e) {
    throw new Error(`corrupt GIF data (${(e as Error).message})`);
  }
  if (reader.numFrames() < 1) throw new Error("GIF has no image");
  const frame = reader.frameInfo(0);
  if (frame.x + frame.width > reader.width || frame.y + frame.height > reader.height) {
    throw new Error("corrupt GIF data (first frame outside the screen)");
  }
  const data = new Uint8Array(reader.width * reader.height * 4);
  // omggif reports a stream that ends early (or runs long) with console.log:
  // catch those lines as warnings instead of printing them.
  const said: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => said.push(args.join(" "));
  try {
    reader.decodeAndBlitFrameRGBA(0, data);
  } catch (e) {
    throw new Error(`corrupt or truncated GIF data (${(e as Error).message})`);
  } finally {
    console.log = log;
  }
  const warnings = said.some((s) => /shorter/.test(s))
    ? ["GIF data ends early (truncated?)"]
    : said.length > 0
    ? ["GIF frame data runs longer than expected"]
    : [];
  return { image: { width: reader.width, height: reader.height, data }, warnings };
}
