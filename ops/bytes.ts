/**
 * Byte helpers shared by the container walkers and writers (`icc.ts`,
 * `metadata.ts`, `metadata_write.ts`, `webp_container.ts`, `heif_items.ts`,
 * `png_pieces.ts`, `png_repair.ts`).
 *
 * @module
 */

/** The parts, one after the other, in a new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `len` bytes at `start` as Latin-1 text (cut at the end of `bytes`). */
export function ascii(bytes: Uint8Array, start: number, len: number): string {
  let s = "";
  for (let k = 0; k < len && start + k < bytes.length; k++) {
    s += String.fromCharCode(bytes[start + k]);
  }
  return s;
}
