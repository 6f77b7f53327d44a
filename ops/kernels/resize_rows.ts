/**
 * A resize fed with rows as a decoder produces them, so that an image far
 * larger than its output is never held whole: the same WASM passes, weights
 * (`filters.ts`, per `--kernel`) and pass order as `resizeAt` (`pixels.ts`),
 * so the bytes are the same.
 *
 * - Horizontal pass first: each strip of rows is resized across as it
 *   arrives, into an intermediate of `srcHeight` x `width`; the vertical
 *   pass runs at the end.
 * - Vertical pass first (the cheaper order when shrinking both ways): the
 *   rows each output row needs (`taps` of them) are kept in a window, and an
 *   output row is computed as soon as its last row has arrived, into an
 *   intermediate of `height` x `srcWidth`; the horizontal pass runs at the
 *   end.
 *
 * @module
 */
import type { Arena, Resident } from "./arena.ts";
import { type AxisWeights, axisWeights, DEFAULT_KERNEL, type Kernel } from "./filters.ts";
import { horizontalFirst, horizontalPass, horizontalScratch } from "./pixels.ts";

/** Rows of `srcWidth` RGBA pixels, in order, to a `width` x `height` resident image. */
export class RowResizer {
  #a: Arena;
  #sw: number;
  #sh: number;
  #width: number;
  #height: number;
  #wx: AxisWeights;
  #wy: AxisWeights;
  #hFirst: boolean;
  #xb: number;
  #xw: number;
  #yb: number;
  #yw: number;
  #zero: number;
  #mid: number;
  /** Scratch of the horizontal pass. */
  #tmp: number;
  /** Vertical first: the window of source rows [#base, #base + #count), capacity #cap. */
  #win = 0;
  #cap = 0;
  #base = 0;
  #count = 0;
  /** Rows received; output rows done (vertical first). */
  #received = 0;
  #done = 0;

  /**
   * A resizer from `sw` x `sh` to `width` x `height` with `kernel`, whose
   * buffers come from `a`; `strip` is the most rows one {@link push} brings.
   * Both sizes must change, and the source must have at least as many rows
   * as the vertical filter has taps (see {@link RowResizer.takes}).
   */
  constructor(
    a: Arena,
    sw: number,
    sh: number,
    width: number,
    height: number,
    strip: number,
    kernel: Kernel = DEFAULT_KERNEL,
  ) {
    if (!RowResizer.takes(sw, sh, width, height, kernel)) {
      throw new RangeError(`cannot stream a resize of ${sw}x${sh} to ${width}x${height}`);
    }
    this.#a = a;
    this.#sw = sw;
    this.#sh = sh;
    this.#width = width;
    this.#height = height;
    this.#wx = axisWeights(sw, width, kernel);
    this.#wy = axisWeights(sh, height, kernel);
    this.#hFirst = horizontalFirst(sw, sh, width, height, this.#wx, this.#wy);
    const { bounds: xb, weights: xw } = this.#wx, { bounds: yb, weights: yw } = this.#wy;
    this.#xb = a.alloc(xb.byteLength);
    this.#xw = a.alloc(xw.byteLength);
    this.#yb = a.alloc(yb.byteLength);
    this.#yw = a.alloc(yw.byteLength);
    this.#zero = a.alloc(4);
    this.#tmp = a.alloc(horizontalScratch(sw, width, this.#wx.taps));
    this.#mid = this.#hFirst ? a.alloc(width * 4 * sh) : a.alloc(sw * 4 * height);
    if (!this.#hFirst) {
      this.#cap = this.#wy.taps + strip;
      this.#win = a.alloc(sw * 4 * this.#cap);
    }
    const mem = a.view();
    for (
      const [p, arr] of [[this.#xb, xb], [this.#xw, xw], [this.#yb, yb], [this.#yw, yw]] as const
    ) {
      mem.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), p);
    }
    new Int32Array(mem.buffer, this.#zero, 1)[0] = 0;
  }

  /** Whether a resize of `sw` x `sh` to `width` x `height` with `kernel` can be streamed. */
  static takes(
    sw: number,
    sh: number,
    width: number,
    height: number,
    kernel: Kernel = DEFAULT_KERNEL,
  ): boolean {
    return sw !== width && sh !== height && sh >= axisWeights(sh, height, kernel).taps;
  }

  /** Takes the next `rows` rows, at `ptr` of the arena's memory. */
  push(ptr: number, rows: number): void {
    const k = this.#a.k, sw = this.#sw, row = sw * 4;
    if (this.#hFirst) {
      horizontalPass(
        this.#a,
        ptr,
        [sw, rows],
        this.#mid + this.#received * this.#width * 4,
        this.#width,
        [this.#xb, this.#xw, this.#wx.taps],
        this.#tmp,
      );
      this.#received += rows;
      return;
    }
    const bounds = this.#wy.bounds, taps = this.#wy.taps;
    for (let at = 0; at < rows;) {
      // the first row any output row still needs (past the last: none)
      const first = this.#done < this.#height ? bounds[this.#done] : this.#sh;
      if (this.#count === this.#cap) {
        // drop the rows before it (`nearest` has 2 taps however far apart its rows lie,
        // so that row may not have arrived yet: then the whole window goes)
        const drop = Math.min(first - this.#base, this.#count);
        const view = this.#a.view();
        view.copyWithin(this.#win, this.#win + drop * row, this.#win + this.#count * row);
        this.#base += drop;
        this.#count -= drop;
      }
      if (this.#count === 0 && this.#base < first) {
        // arriving rows no output row needs: skipped, not copied
        const skip = Math.min(first - this.#base, rows - at);
        this.#base += skip;
        at += skip;
        continue;
      }
      const n = Math.min(rows - at, this.#cap - this.#count);
      this.#a.view().copyWithin(
        this.#win + this.#count * row,
        ptr + at * row,
        ptr + (at + n) * row,
      );
      this.#count += n;
      at += n;
      // every output row whose taps have all arrived
      while (this.#done < this.#height && bounds[this.#done] + taps <= this.#base + this.#count) {
        const y = this.#done++;
        k.resizeV(
          this.#win + (bounds[y] - this.#base) * row,
          row,
          this.#mid + y * row,
          1,
          this.#zero,
          this.#yw + y * taps * 2,
          taps,
        );
      }
    }
    this.#received += rows;
  }

  /** The resized image, once all `srcHeight` rows were pushed. */
  finish(): Resident {
    if (this.#received !== this.#sh) {
      throw new RangeError(`resize got ${this.#received} of ${this.#sh} rows`);
    }
    const a = this.#a, width = this.#width, height = this.#height;
    const d = a.alloc(width * height * 4);
    if (this.#hFirst) {
      a.k.resizeV(this.#mid, width * 4, d, height, this.#yb, this.#yw, this.#wy.taps);
    } else {
      horizontalPass(a, this.#mid, [this.#sw, height], d, width, [
        this.#xb,
        this.#xw,
        this.#wx.taps,
      ], this.#tmp);
    }
    return { width, height, ptr: d };
  }
}
