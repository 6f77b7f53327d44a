/**
 * What libjpeg forgives in a JPEG and what it really cannot decode, judged
 * from the marker walk (`jpeg_markers.ts`) before any decoding: the honest
 * refusal for a process zpix's decoders do not implement, and the cut that
 * drops a stray marker after a complete image.
 *
 * @module
 */

import type { JpegInfo } from "./jpeg_markers.ts";

/**
 * The refusal for a JPEG process zpix's decoders do not implement
 * (lossless, hierarchical, samples other than 8 bits), or null. MozJPEG
 * would call most of them "corrupt".
 */
export function unsupportedJpeg(info: JpegInfo): string | null {
  const m = info.sofMarker;
  if (m === 0xc3 || m === 0xc7 || m === 0xcb || m === 0xcf) return "lossless JPEG is not supported";
  if (info.hierarchical || m === 0xc5 || m === 0xc6 || m === 0xcd || m === 0xce) {
    return "hierarchical JPEG is not supported";
  }
  const p = info.precision;
  if (p === 12 || p === 16) return `${p}-bit JPEG is not supported (only 8-bit samples)`;
  if (p !== 8) return `corrupt JPEG data (invalid sample precision ${p} in the frame header)`;
  return null;
}

/** True for an arithmetic-coded sequential or progressive frame (SOF9, SOF10). */
export function isArithmetic(info: JpegInfo): boolean {
  return info.sofMarker === 0xc9 || info.sofMarker === 0xca;
}

/**
 * A JPEG with a stray marker after its complete image (`info.strayAt`) cut
 * there and closed with EOI, and the warning that says so; null without
 * one. libjpeg has output every pixel before it fails on such a marker
 * (djpeg writes the whole image, then exits with "two SOF markers").
 */
export function dropStrayMarker(
  bytes: Uint8Array,
  info: JpegInfo,
): { bytes: Uint8Array; warning: string } | null {
  const at = info.strayAt;
  if (at === null) return null;
  const out = new Uint8Array(at + 2);
  out.set(bytes.subarray(0, at));
  out[at] = 0xff;
  out[at + 1] = 0xd9;
  const m = bytes[at + 1].toString(16).toUpperCase();
  return {
    bytes: out,
    warning: `ignored a stray 0x${m} marker at byte ${at}, after the complete image`,
  };
}
