/**
 * `--keep-metadata`, writing: EXIF, XMP and an ICC profile put into an
 * encoded JPEG (APP1 Exif, APP1 XMP, APP2 ICC chunks), PNG (eXIf, iTXt
 * `XML:com.adobe.xmp`, iCCP), WebP (a VP8X container with ICCP, EXIF, XMP)
 * or AVIF (a `colr` property and Exif/XMP items). Only segments, chunks or
 * boxes are added: the image data is not touched. Reading is `metadata.ts`.
 *
 * @module
 */

import { concat } from "./bytes.ts";
import type { WritableFormat } from "./formats.ts";
import { EXIF_SIGNATURE, type Metadata, XMP_KEYWORD, XMP_SIGNATURE } from "./metadata.ts";
import { embedJpegIcc, embedPngIcc } from "./icc.ts";
import { pngChunk } from "./png_chunks.ts";
import { addWebpChunks } from "./webp_container.ts";
import { addIccToHeif } from "./isobmff.ts";
import { addHeifItems } from "./heif_items.ts";

/** What {@link embedMetadata} wrote. */
export interface Embedded {
  /** The output with its metadata. */
  bytes: Uint8Array;
  /** What could not be written, one line each. */
  warnings: string[];
}

/** Largest payload of one JPEG marker segment (the 16-bit length counts its own 2 bytes). */
const JPEG_SEGMENT = 65533;

function jpegSegment(marker: number, signature: string, payload: Uint8Array): Uint8Array {
  const seg = new Uint8Array(4 + signature.length + payload.length);
  const len = seg.length - 2;
  seg.set([0xff, marker, len >> 8, len & 0xff]);
  for (let c = 0; c < signature.length; c++) seg[4 + c] = signature.charCodeAt(c);
  seg.set(payload, 4 + signature.length);
  return seg;
}

function embedJpeg(jpeg: Uint8Array, meta: Metadata, warnings: string[]): Uint8Array {
  let out = meta.icc ? embedJpegIcc(jpeg, meta.icc) : jpeg;
  const segments: Uint8Array[] = [];
  const fits = (what: string, signature: string, part: Uint8Array) => {
    if (signature.length + part.length <= JPEG_SEGMENT) return true;
    warnings.push(`${what} not kept: ${part.length} bytes do not fit in one JPEG segment (64 KB)`);
    return false;
  };
  if (meta.exif && fits("EXIF", EXIF_SIGNATURE, meta.exif)) {
    segments.push(jpegSegment(0xe1, EXIF_SIGNATURE, meta.exif));
  }
  if (meta.xmp && fits("XMP", XMP_SIGNATURE, meta.xmp)) {
    segments.push(jpegSegment(0xe1, XMP_SIGNATURE, meta.xmp));
  }
  if (segments.length === 0) return out;
  // After SOI and a JFIF APP0, before the ICC chunks embedJpegIcc put there.
  let at = 2;
  if (out[2] === 0xff && out[3] === 0xe0) at = 4 + ((out[4] << 8) | out[5]);
  out = concat([out.subarray(0, at), ...segments, out.subarray(at)]);
  return out;
}

async function embedPng(png: Uint8Array, meta: Metadata): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (meta.exif) chunks.push(pngChunk("eXIf", meta.exif));
  if (meta.xmp) {
    // keyword NUL, not compressed, method 0, empty language tag NUL, empty translated keyword NUL
    const head = new TextEncoder().encode(`${XMP_KEYWORD}\0\0\0\0\0`);
    chunks.push(pngChunk("iTXt", concat([head, meta.xmp])));
  }
  const ihdrEnd = 8 + 8 + 13 + 4;
  const out = chunks.length === 0
    ? png
    : concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
  // iCCP goes right after IHDR, before these (it must precede PLTE and IDAT).
  return meta.icc ? await embedPngIcc(out, meta.icc) : out;
}

function embedAvif(avif: Uint8Array, meta: Metadata, warnings: string[]): Uint8Array {
  let out = avif;
  if (meta.icc) {
    const withIcc = addIccToHeif(out, meta.icc);
    if (withIcc) out = withIcc;
    else warnings.push("ICC profile not kept: the AVIF container's layout is not one zpix edits");
  }
  if (meta.exif || meta.xmp) {
    const withItems = addHeifItems(out, { exif: meta.exif, xmp: meta.xmp });
    if (withItems) out = withItems;
    else warnings.push("EXIF/XMP not kept: the AVIF container's layout is not one zpix edits");
  }
  return out;
}

/**
 * Writes `meta`'s parts into an encoded output of `format`. A part that
 * cannot be written (an EXIF block over JPEG's 64 KB segment, an AVIF
 * layout it does not edit) is dropped with a warning; the image data is
 * never changed.
 */
export async function embedMetadata(
  bytes: Uint8Array,
  format: WritableFormat,
  meta: Metadata,
): Promise<Embedded> {
  const warnings: string[] = [];
  if (!meta.exif && !meta.xmp && !meta.icc) return { bytes, warnings };
  switch (format) {
    case "jpeg":
      return { bytes: embedJpeg(bytes, meta, warnings), warnings };
    case "png":
      return { bytes: await embedPng(bytes, meta), warnings };
    case "webp": {
      const out = addWebpChunks(bytes, meta);
      if (out === bytes) warnings.push("metadata not kept: the WebP layout is not one zpix edits");
      return { bytes: out, warnings };
    }
    case "avif":
      return { bytes: embedAvif(bytes, meta, warnings), warnings };
  }
}
