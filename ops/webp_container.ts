/**
 * The WebP container (RIFF) rebuilt with metadata chunks: a simple file
 * (`VP8 `/`VP8L` alone) or an extended one (`VP8X` first) becomes an
 * extended file whose `VP8X` flags name what it holds, with `ICCP` right
 * after `VP8X` and `EXIF`, `XMP ` after the image data, in the order the
 * container specification requires. Used for `--keep-icc` and
 * `--keep-metadata`.
 *
 * @module
 */

import { ascii, concat } from "./bytes.ts";
/** The chunks to add to a WebP file (null: none of that kind). */
export interface WebpExtras {
  /** ICC profile (`ICCP`). */
  icc?: Uint8Array | null;
  /** EXIF TIFF block (`EXIF`). */
  exif?: Uint8Array | null;
  /** XMP packet (`XMP `). */
  xmp?: Uint8Array | null;
}

const ICC_FLAG = 0x20, ALPHA_FLAG = 0x10, EXIF_FLAG = 0x08, XMP_FLAG = 0x04;

interface Chunk {
  type: string;
  bytes: Uint8Array; // the whole chunk, header and padding included
}

function chunksOf(webp: Uint8Array): Chunk[] | null {
  const v = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const chunks: Chunk[] = [];
  let i = 12;
  while (i + 8 <= webp.length) {
    const len = v.getUint32(i + 4, true);
    const end = i + 8 + len + (len & 1);
    if (i + 8 + len > webp.length) return null;
    chunks.push({ type: ascii(webp, i, 4), bytes: webp.subarray(i, Math.min(end, webp.length)) });
    i = end;
  }
  return chunks;
}

/**
 * Adds `extras` to a WebP file. A chunk of a kind being added that the file
 * already has is replaced. Returns the input unchanged when its layout is
 * not one it knows (then nothing was added).
 */
export function addWebpChunks(webp: Uint8Array, extras: WebpExtras): Uint8Array {
  if (webp.length < 30 || ascii(webp, 0, 4) !== "RIFF" || ascii(webp, 8, 4) !== "WEBP") {
    return webp;
  }
  const chunks = chunksOf(webp);
  if (!chunks || chunks.length === 0) return webp;
  let flags: number, canvas: Uint8Array;
  if (chunks[0].type === "VP8X" && chunks[0].bytes.length >= 18) {
    flags = chunks[0].bytes[8];
    canvas = chunks[0].bytes.subarray(12, 18);
  } else {
    const size = chunks[0].type === "VP8 "
      ? vp8Size(webp)
      : chunks[0].type === "VP8L"
      ? vp8lSize(webp)
      : null;
    if (!size) return webp;
    flags = size.alpha ? ALPHA_FLAG : 0;
    const w = size.width - 1, h = size.height - 1;
    canvas = new Uint8Array([
      w & 0xff,
      (w >> 8) & 0xff,
      w >> 16,
      h & 0xff,
      (h >> 8) & 0xff,
      h >> 16,
    ]);
  }
  const replaced = new Set<string>();
  if (extras.icc) flags |= ICC_FLAG, replaced.add("ICCP");
  if (extras.exif) flags |= EXIF_FLAG, replaced.add("EXIF");
  if (extras.xmp) flags |= XMP_FLAG, replaced.add("XMP ");
  const header = new Uint8Array(10);
  header[0] = flags;
  header.set(canvas, 4);
  const image = chunks.filter((c) => c.type !== "VP8X" && !replaced.has(c.type));
  const parts = [
    new TextEncoder().encode("WEBP"),
    riffChunk("VP8X", header),
    ...(extras.icc ? [riffChunk("ICCP", extras.icc)] : []),
    ...image.map((c) => c.bytes),
    ...(extras.exif ? [riffChunk("EXIF", extras.exif)] : []),
    ...(extras.xmp ? [riffChunk("XMP ", extras.xmp)] : []),
  ];
  const body = concat(parts);
  const out = new Uint8Array(8 + body.length);
  out.set([0x52, 0x49, 0x46, 0x46]);
  new DataView(out.buffer).setUint32(4, body.length, true);
  out.set(body, 8);
  return out;
}

function vp8Size(b: Uint8Array): { width: number; height: number; alpha: boolean } | null {
  if (b.length < 30 || b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
  return {
    width: (b[26] | (b[27] << 8)) & 0x3fff,
    height: (b[28] | (b[29] << 8)) & 0x3fff,
    alpha: false,
  };
}

function vp8lSize(b: Uint8Array): { width: number; height: number; alpha: boolean } | null {
  if (b.length < 25 || b[20] !== 0x2f) return null;
  const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
  return {
    width: (bits & 0x3fff) + 1,
    height: ((bits >>> 14) & 0x3fff) + 1,
    alpha: ((bits >>> 28) & 1) === 1,
  };
}

function riffChunk(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length + (payload.length & 1));
  for (let c = 0; c < 4; c++) out[c] = type.charCodeAt(c);
  new DataView(out.buffer).setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}
