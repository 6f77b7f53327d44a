/**
 * libjpeg's warnings for what the kernels' scan decoders (`jpegDecodeScan`,
 * `jpegProgScan`) forgave in damaged entropy-coded data, from the flag bits
 * they return; and the stray markers libjpeg passes over after a damaged
 * scan.
 *
 * @module
 */

/** The prefix of every warning, as zpix reports libjpeg's own. */
export const CORRUPT = "JPEG decoder warning: Corrupt JPEG data";

/** The warnings for a scan decoder's flag bits (none for 0). */
export function scanWarnings(flags: number): string[] {
  const out: string[] = [];
  if (flags & 1) out.push(`${CORRUPT}: bad Huffman code`);
  if (flags & 2) out.push(`${CORRUPT}: premature end of data segment`);
  if (flags & 4) out.push(`${CORRUPT}: restart marker out of place (resynchronised)`);
  if (flags & 8) out.push(`${CORRUPT}: extraneous bytes before marker`);
  return out;
}

/**
 * From `i` (a marker's FF, or the data's end), past the markers libjpeg's
 * read_markers passes over between scans (RSTn and TEM, left behind by a
 * damaged scan) and the data after each up to the next marker: the offset
 * of the next other marker (or the data's end), and whether any was passed.
 */
export function skipStrayMarkers(b: Uint8Array, i: number): { at: number; skipped: boolean } {
  let skipped = false;
  for (;;) {
    let m = i;
    while (m + 1 < b.length && b[m + 1] === 0xff) m++;
    if (m + 1 >= b.length || b[m] !== 0xff) return { at: i, skipped };
    const code = b[m + 1];
    if (code !== 0x01 && (code < 0xd0 || code > 0xd7)) return { at: i, skipped };
    skipped = true;
    // libjpeg's next_marker: to the next FF not followed by 00 or FF
    i = m + 2;
    while (i + 1 < b.length && !(b[i] === 0xff && b[i + 1] !== 0 && b[i + 1] !== 0xff)) i++;
    if (i + 1 >= b.length) return { at: b.length, skipped };
  }
}
