/**
 * What libpng forgives in a PNG, at the chunk level, before the pixels are
 * decoded: a malformed ancillary chunk (libpng's "benign error": a warning,
 * the chunk ignored, e.g. an sRGB rendering intent of 4 or a pHYs of the
 * wrong length) is dropped, and a stream whose chunks end cleanly after its
 * image data but without IEND gets one. The decoder then sees a well-formed
 * stream; the caller reports the warnings.
 *
 * @module
 */

import { concat } from "./bytes.ts";
import {
  isCriticalChunk,
  pngChunk,
  type PngInfo,
  readPngHeader,
  readPngInfo,
} from "./png_chunks.ts";

/** What {@link forgivePng} made of a PNG. */
export interface ForgivenPng {
  /** The stream to decode: the input itself when nothing was wrong. */
  bytes: Uint8Array;
  /** One line per fault forgiven. */
  warnings: string[];
}

/** The lengths libpng accepts for an ancillary chunk by IHDR colour type, or null if any. */
function validLength(type: string, colorType: number): ((n: number) => boolean) | null {
  const per = (lengths: Record<number, number>) => (n: number) => lengths[colorType] === n;
  switch (type) {
    case "gAMA":
      return (n) => n === 4;
    case "cHRM":
      return (n) => n === 32;
    case "sRGB":
      return (n) => n === 1;
    case "pHYs":
      return (n) => n === 9;
    case "tIME":
      return (n) => n === 7;
    case "bKGD":
      return per({ 0: 2, 2: 6, 3: 1, 4: 2, 6: 2 + 4 });
    case "sBIT":
      return per({ 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 });
    case "tRNS":
      // gray: one 16-bit sample, RGB: three; palette: up to 256 alphas; none with alpha
      return colorType === 3 ? (n) => n >= 1 && n <= 256 : per({ 0: 2, 2: 6 });
  }
  return null;
}

/** Why libpng would ignore this ancillary chunk's content, or null when it is fine. */
function ancillaryFault(
  type: string,
  data: Uint8Array,
  colorType: number,
): string | null {
  const ok = validLength(type, colorType);
  if (ok && !ok(data.length)) {
    return type === "tRNS" && (colorType === 4 || colorType === 6)
      ? "tRNS chunk on an image with an alpha channel"
      : `${type} chunk of ${data.length} bytes`;
  }
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (type === "sRGB" && data[0] > 3) return `sRGB rendering intent ${data[0]}`;
  if (type === "gAMA" && v.getUint32(0) === 0) return "gAMA of 0";
  if (type === "pHYs" && data[8] > 1) return `pHYs unit ${data[8]}`;
  return null;
}

/**
 * Drops malformed ancillary chunks and closes a stream that ends after
 * complete chunks (image data included) without IEND. Returns null when the
 * stream is cut inside or before its image data (nothing to forgive: it is
 * truncated), or has no complete IHDR.
 */
export function forgivePng(bytes: Uint8Array): ForgivenPng | null {
  const header = readPngHeader(bytes);
  if (!header) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const warnings: string[] = [];
  const kept: [number, number][] = []; // [start, end) of each chunk kept, in order
  let changed = false;
  let sawIdat = false;
  let iend = false;
  let i = 8;
  while (i + 12 <= bytes.length) {
    const len = v.getUint32(i);
    const type = String.fromCharCode(...bytes.subarray(i + 4, i + 8));
    const end = i + 12 + len;
    if (end > bytes.length) break; // cut off inside this chunk
    if (type === "IDAT") sawIdat = true;
    const fault = isCriticalChunk(type)
      ? null
      : ancillaryFault(type, bytes.subarray(i + 8, i + 8 + len), header.colorType);
    if (fault) {
      warnings.push(`ignored a malformed PNG ancillary chunk (${fault})`);
      changed = true;
    } else kept.push([i, end]);
    i = end;
    if (type === "IEND") {
      iend = true;
      break;
    }
  }
  if (!iend) {
    // What is cut off must not be image data: the next chunk's type, if readable
    // (if not, the decoder tells whether the image data is complete).
    const next = i + 8 <= bytes.length
      ? String.fromCharCode(...bytes.subarray(i + 4, i + 8))
      : null;
    if (!sawIdat || next === "IDAT") return null;
    warnings.push(
      i < bytes.length
        ? `PNG data ends early, inside a chunk after its image data (${
          bytes.length - i
        } bytes ignored)`
        : "PNG data ends early: no IEND chunk after its image data",
    );
    changed = true;
  }
  if (!changed) return { bytes, warnings };
  const parts = kept.map(([s, e]) => bytes.subarray(s, e));
  if (!iend) parts.push(pngChunk("IEND", new Uint8Array(0)));
  return { bytes: concat([bytes.subarray(0, 8), ...parts]), warnings };
}

/** A PNG that passed {@link checkPngChunks}. */
export interface CheckedPng {
  /** The stream to decode: the input, or a copy without the chunks forgiven, with IEND. */
  bytes: Uint8Array;
  /** The input's IHDR facts, CRC mismatches and whether it reached IEND. */
  info: PngInfo;
  /** One line per fault forgiven. */
  warnings: string[];
}

/**
 * The chunk-level checks before a PNG is decoded: a CRC mismatch in a
 * critical chunk or a stream cut inside its image data is an error (the
 * decoder fails on any stream cut short, and each failure leaks memory in
 * it, so it is not fed one); a bad ancillary CRC, a malformed ancillary
 * chunk (dropped) or a missing IEND are warnings. Returns the stream to
 * decode, or the error's message. `bytes` must have a complete IHDR.
 */
export function checkPngChunks(bytes: Uint8Array): CheckedPng | { error: string } {
  const info = readPngInfo(bytes);
  if (!info) return { error: "truncated or corrupt PNG data (no valid IHDR header)" };
  const badCritical = info.badCrc.filter(isCriticalChunk);
  if (badCritical.length > 0) {
    return { error: `corrupt PNG data (CRC mismatch in ${badCritical[0]} chunk)` };
  }
  const warnings = info.badCrc.map((t) => `PNG ${t} chunk has a bad CRC (used anyway)`);
  const forgiven = forgivePng(bytes);
  if (!forgiven) return { error: "truncated PNG data" };
  return { bytes: forgiven.bytes, info, warnings: [...warnings, ...forgiven.warnings] };
}
