/**
 * A small JPEG marker walker: reads the frame header (SOFn), the Adobe APP14
 * colour transform, the EXIF APP1 segment and whether the data reaches the
 * EOI marker, without decoding any pixels.
 *
 * @module
 */

/** What {@link readJpegInfo} found in a JPEG's marker segments. */
export interface JpegInfo {
  /** Frame width from SOFn. */
  width: number;
  /** Frame height from SOFn (0 would mean "defined later by DNL"). */
  height: number;
  /** Number of colour components: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK. */
  components: number;
  /** Sample precision in bits (8 for nearly every file, 12 or 16 rarely). */
  precision: number;
  /** The SOF marker byte, e.g. 0xc0 baseline, 0xc2 progressive. */
  sofMarker: number;
  /** Adobe APP14 transform flag (0 none/CMYK, 1 YCbCr, 2 YCCK), or null without APP14. */
  adobeTransform: number | null;
  /** The TIFF payload of the first "Exif\0\0" APP1 segment, or null. */
  exif: Uint8Array | null;
  /** True when an EOI marker (FFD9) was reached after the last scan. */
  hasEoi: boolean;
  /** True when a DHP marker (hierarchical process) came before the frame header. */
  hierarchical: boolean;
  /**
   * Where a stray marker sits that libjpeg only meets after it has output the
   * whole image (a second SOF or SOI, another SOS after a sequential frame's
   * one scan of every component), or null. libjpeg then fails in
   * `jpeg_finish_decompress`, with every pixel already decoded.
   */
  strayAt: number | null;
}

/** True for the SOFn markers that carry a frame header (not DHT, JPG, DAC). */
function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/**
 * Walks a JPEG's marker segments. Returns null when the bytes do not start
 * with SOI or end before a frame header is found (nothing usable). When
 * `headerOnly` is true it stops at the frame header and `hasEoi` is false.
 */
export function readJpegInfo(
  bytes: Uint8Array,
  headerOnly = false,
): JpegInfo | null {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let info: JpegInfo | null = null;
  let adobeTransform: number | null = null;
  let exif: Uint8Array | null = null;
  let hierarchical = false;
  /** Set once a sequential frame's scan of every component has been read past. */
  let complete = false;
  let i = 2;
  while (i < n) {
    // Markers may be preceded by any number of 0xFF fill bytes.
    if (bytes[i] !== 0xff) {
      // Garbage where a marker should be: resynchronise at the next 0xFF.
      const next = bytes.indexOf(0xff, i);
      if (next < 0) break;
      i = next;
    }
    while (i < n && bytes[i] === 0xff) i++;
    if (i >= n) break;
    const m = bytes[i++];
    if (complete && info && info.strayAt === null && isStray(m)) info.strayAt = i - 2;
    if (m === 0xd9) {
      if (info) info.hasEoi = true;
      return info;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7) || m === 0x00) continue; // standalone
    if (i + 2 > n) break;
    const len = (bytes[i] << 8) | bytes[i + 1];
    if (len < 2) break;
    const seg = i + 2; // first payload byte
    const end = i + len; // one past the segment
    if (isSof(m) && !info) {
      // Only the first frame header counts; a later one is corruption that
      // the decoder will report.
      if (end > n || len < 8) return null;
      info = {
        precision: bytes[seg],
        height: (bytes[seg + 1] << 8) | bytes[seg + 2],
        width: (bytes[seg + 3] << 8) | bytes[seg + 4],
        components: bytes[seg + 5],
        sofMarker: m,
        adobeTransform,
        exif,
        hasEoi: false,
        hierarchical,
        strayAt: null,
      };
      if (headerOnly) return info;
    } else if (
      m === 0xee && end <= n && len >= 14 && ascii(bytes, seg, 5) === "Adobe"
    ) {
      adobeTransform = bytes[seg + 11];
      if (info) info.adobeTransform = adobeTransform;
    } else if (
      m === 0xe1 && exif === null && end <= n && len >= 8 &&
      ascii(bytes, seg, 6) === "Exif\0\0"
    ) {
      exif = bytes.subarray(seg + 6, end);
      if (info) info.exif = exif;
    }
    if (m === 0xde) hierarchical = true;
    i = end;
    if (m === 0xda) {
      // A sequential Huffman frame whose first scan holds every component is
      // complete after it: libjpeg expects only EOI (and tables, APPn, COM).
      if (
        info && !complete && (info.sofMarker === 0xc0 || info.sofMarker === 0xc1) &&
        len >= 3 && bytes[seg] === info.components
      ) complete = true;
      // Entropy-coded data follows SOS: skip to the next real marker
      // (0xFF followed by something other than a stuffed 0x00 or RSTn).
      for (;;) {
        const ff = bytes.indexOf(0xff, i);
        if (ff < 0 || ff + 1 >= n) return info;
        const b = bytes[ff + 1];
        if (b === 0x00 || (b >= 0xd0 && b <= 0xd7) || b === 0xff) {
          i = ff + 1;
          continue;
        }
        i = ff;
        break;
      }
    }
  }
  return info;
}

/** Markers libjpeg fails on after the image's last scan (SOFn, SOI, SOS, DHP, EXP, DAC, JPG). */
function isStray(m: number): boolean {
  return (m >= 0xc0 && m <= 0xcf && m !== 0xc4) || m === 0xd8 || m === 0xda || m === 0xde ||
    m === 0xdf;
}

function ascii(bytes: Uint8Array, start: number, len: number): string {
  let s = "";
  for (let k = 0; k < len; k++) s += String.fromCharCode(bytes[start + k]);
  return s;
}
