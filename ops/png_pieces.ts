/**
 * A large PNG resized as its rows arrive, read from its file in pieces: the
 * streamed path of `png_stream.ts` without the whole file in memory (a
 * 351 MB PNG no longer costs 351 MB before its first row). The chunks
 * before the image data are read first and checked as `png_stream.ts`
 * checks a whole file; the image data goes to the inflater piece by piece,
 * each IDAT's CRC computed as it passes; the chunks after it are checked at
 * the end. The checks run on a skeleton of the file: every chunk as it is,
 * the IDATs with their data left out (their CRCs made to fit, once checked
 * here), so what is forgiven and what is refused is what the whole file
 * would give.
 *
 * Anything this path does not take, or finds damaged, returns null: the
 * caller then reads the whole file and takes the usual paths, which decode
 * it or say what is wrong.
 *
 * @module
 */

import type { Image } from "./image.ts";
import { concat } from "./bytes.ts";
import { crc32Update, hasPngSignature, PNG_SIGNATURE, pngChunk } from "./png_chunks.ts";
import { checkPngChunks } from "./png_repair.ts";
import { prepareResized, resizeRows, STREAM_MIN_PIXELS, type StreamedPng } from "./png_stream.ts";
import { SLICE } from "./png_decode.ts";
import type { Step } from "./pipeline.ts";

/** Where the bytes come from, in order (a `Deno.FsFile`). */
export interface ByteReader {
  /** Reads into `p`; the count read, or null at the end. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Smallest file (bytes) read in pieces: below it, reading it whole costs little memory. */
export const PIECES_MIN_BYTES = 32 << 20;

/** Bytes read at a time. */
const PIECE = 1 << 20;

/** Options of {@link decodePngFileResized}. */
export interface PiecesOptions {
  /** Smallest image (pixels) taken, as `decodePngResized`'s `minPixels`. */
  minPixels?: number;
  /** Return the input's ICC profile (to embed), as `decodeAny` does. */
  keepIcc?: boolean;
  /** Bytes read at a time (tests make them few, to cut chunks across pieces). */
  pieceBytes?: number;
}

/** Largest chunk other than IDAT that this path reads (more: the general path judges it). */
const MAX_OTHER_CHUNK = 16 << 20;

/** A reader of exact byte counts over pieces that are never reused (the inflater may keep them). */
class Pieces {
  #piece = new Uint8Array(0);
  #at = 0;
  #ended = false;

  constructor(private readonly file: ByteReader, private readonly size: number) {}

  /** The next bytes, at most `max`, without copying; an empty array at the end. */
  async next(max: number): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#at === this.#piece.length && !this.#ended) {
      const piece = new Uint8Array(this.size);
      let n = 0;
      while (n < this.size) {
        const got = await this.file.read(piece.subarray(n));
        if (got === null) {
          this.#ended = true;
          break;
        }
        n += got;
      }
      this.#piece = piece.subarray(0, n);
      this.#at = 0;
    }
    const out = this.#piece.subarray(this.#at, this.#at + max);
    this.#at += out.length;
    return out;
  }

  /** The next `n` bytes, copied; fewer at the end of the file. */
  async bytes(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const part = await this.next(n - got);
      if (part.length === 0) return out.subarray(0, got);
      out.set(part, got);
      got += part.length;
    }
    return out;
  }
}

const IDAT = 0x49444154;
const IEND = 0x49454e44;

/** A chunk's length and type from its 8-byte header. */
function head(h: Uint8Array): { len: number; type: number } {
  const v = new DataView(h.buffer, h.byteOffset, 8);
  return { len: v.getUint32(0), type: v.getUint32(4) };
}

/** The chunks of a file, as read: the skeleton's parts and where the image data stands. */
class Walk {
  /** The signature and every chunk read, IDATs without their data. */
  readonly skeleton: Uint8Array[] = [Uint8Array.from(PNG_SIGNATURE)];
  /** The header of the chunk after the last one read whole (null at the end). */
  pending: Uint8Array | null = null;
  /** False once an IDAT's CRC did not match, the file ended inside one, or a chunk was too large. */
  ok = true;

  constructor(private readonly pieces: Pieces) {}

  /** Reads the next chunk header into {@link pending}; false at the end of the file. */
  async header(): Promise<boolean> {
    const h = await this.pieces.bytes(8);
    if (h.length < 8) {
      if (h.length) this.skeleton.push(h); // the file ends inside a header: as it is
      this.pending = null;
      return false;
    }
    this.pending = h;
    return true;
  }

  /**
   * Reads the pending chunk (not an IDAT) whole into the skeleton; false at
   * its end (what there was of it kept as it is) or for one too large.
   */
  async other(): Promise<boolean> {
    const h = this.pending!;
    const { len } = head(h);
    if (len > MAX_OTHER_CHUNK) return this.ok = false;
    const rest = await this.pieces.bytes(len + 4);
    this.skeleton.push(h, rest);
    return rest.length === len + 4;
  }

  /** The pending IDAT's data, then any IDATs right after it, in slices; each CRC checked. */
  async *idat(): AsyncGenerator<Uint8Array<ArrayBuffer>> {
    while (this.pending && head(this.pending).type === IDAT) {
      let left = head(this.pending).len;
      let crc = crc32Update(this.pending.subarray(4, 8));
      while (left > 0) {
        const part = await this.pieces.next(Math.min(left, SLICE));
        if (part.length === 0) return void (this.ok = false); // cut inside its data
        crc = crc32Update(part, crc);
        left -= part.length;
        yield part;
      }
      const stored = await this.pieces.bytes(4);
      if (stored.length < 4 || new DataView(stored.buffer).getUint32(0) !== crc >>> 0) {
        return void (this.ok = false);
      }
      this.skeleton.push(pngChunk("IDAT", new Uint8Array(0)));
      if (!await this.header()) return;
    }
  }
}

/**
 * Decodes the PNG that `file` holds and applies `steps[0]` (a resize) as
 * {@link decodePngResized} does, reading the file a piece at a time; null
 * when this path does not take it or finds it damaged (the caller then reads
 * the whole file). `file` is read to its end or to its IEND chunk.
 */
export async function decodePngFileResized(
  file: ByteReader,
  steps: readonly Step[],
  maxPixels: number,
  options: PiecesOptions = {},
): Promise<StreamedPng | null> {
  const { minPixels = STREAM_MIN_PIXELS, keepIcc = false, pieceBytes = PIECE } = options;
  const pieces = new Pieces(file, pieceBytes);
  if (!hasPngSignature(await pieces.bytes(8))) return null;
  const walk = new Walk(pieces);
  // the chunks before the image data
  while (true) {
    if (!await walk.header()) return null;
    if (head(walk.pending!).type === IDAT) break;
    if (!await walk.other()) return null;
    if (head(walk.pending!).type === IEND) return null; // no image data
  }
  const iend = pngChunk("IEND", new Uint8Array(0));
  const first = concat([...walk.skeleton, pngChunk("IDAT", new Uint8Array(0)), iend]);
  const p = await prepareResized(first, steps, maxPixels, minPixels, keepIcc);
  if (!p) return null;
  let image: Image | null = null;
  const data = walk.idat();
  try {
    image = await resizeRows(p, data);
  } finally {
    await data.return(undefined); // (stops reading if the decoder gave up early)
  }
  if (!image || !walk.ok) return null;
  // the chunks after the image data, up to IEND or the end of the file
  while (walk.pending) {
    const type = head(walk.pending).type;
    if (type === IDAT) return null; // image data after another chunk: the general path's case
    if (!await walk.other()) {
      if (!walk.ok) return null;
      break;
    }
    if (type === IEND || !await walk.header()) break;
  }
  if (!walk.ok) return null;
  const checked = checkPngChunks(concat(walk.skeleton));
  if ("error" in checked) return null;
  return { image, warnings: checked.warnings, icc: p.icc };
}
