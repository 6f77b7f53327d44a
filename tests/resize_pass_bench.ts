/**
 * The resize passes alone, per kernel, on the sizes of `tests/kernel_bench.ts`
 * (500x375 → 512x512, and 1920x1200 → 1024x640: a 3840x2400 JPEG decoded at
 * 1/2 and fit to 1024): the vertical pass (`resizeV`), the horizontal pass
 * (`resizeH`, or `resizeHT` from 4 taps) and the whole resize (`resizeAt`,
 * which from 8 vertical taps fuses the two as `resizeVHT` when the vertical
 * pass goes first), in the order a resize runs them. With `--against FILE`, also a second
 * kernels module (another commit's `ops/kernels/kernels.wasm`), interleaved
 * with this one call by call, and the ratio of their times (a module from
 * before `resizeVHT` gets no whole-resize time: NaN). Prints the least
 * time of `--rounds` rounds (the machine is shared and noisy).
 *
 *   deno run --allow-read tests/resize_pass_bench.ts [--rounds N] [--against FILE]
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { type Kernel } from "../ops/kernels/mod.ts";
import { Arena } from "../ops/kernels/arena.ts";
import { axisWeights } from "../ops/kernels/filters.ts";
import { horizontalFirst, resizeAt } from "../ops/kernels/pixels.ts";
import { type KernelExports, kernels } from "../ops/kernels/wasm.ts";
import { photoLikeImage } from "../ops/kernels/test_util.ts";

const { values } = benchArgs(import.meta.url, {
  args: Deno.args,
  options: { rounds: { type: "string", default: "40" }, against: { type: "string" } },
});
const rounds = Number(values.rounds);

const modules: [string, KernelExports][] = [["this", kernels()]];
if (values.against) {
  const module = new WebAssembly.Module(Deno.readFileSync(values.against));
  modules.push([
    "against",
    new WebAssembly.Instance(module, {}).exports as unknown as KernelExports,
  ]);
}

const CASES = [[500, 375, 512, 512], [1920, 1200, 1024, 640]] as const;
const BENCH_KERNELS: Kernel[] = ["linear", "cubic", "lanczos3"];
const images = new Map(CASES.map((c) => [c, photoLikeImage(c[0], c[1], 11)]));

/** One timed call per stage of one resize, on module `k`: [vertical, horizontal, whole] ms. */
function timeOnce(k: KernelExports, c: typeof CASES[number], kernel: Kernel) {
  const [sw, sh, width, height] = c;
  const a = new Arena(k);
  const src = a.load(images.get(c)!);
  const wx = axisWeights(sw, width, kernel), wy = axisWeights(sh, height, kernel);
  const put = (arr: Int32Array | Int16Array) => {
    const p = a.alloc(arr.byteLength);
    a.view().set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), p);
    return p;
  };
  const xb = put(wx.bounds), xw = put(wx.weights), yb = put(wy.bounds), yw = put(wy.weights);
  const hFirst = horizontalFirst(sw, sh, width, height, wx, wy);
  const mid = a.alloc((hFirst ? width * sh : sw * height) * 4 + sw * 4 * wy.taps);
  const dst = a.alloc(width * height * 4);
  const tmp = a.alloc((sw + width + 8) * 128);
  const h = (from: number, rows: number, to: number) =>
    wx.taps < 4
      ? k.resizeH(from, sw, rows, to, width, xb, xw, wx.taps)
      : k.resizeHT(from, sw, rows, to, width, xb, xw, wx.taps, tmp);
  const t0 = performance.now();
  if (hFirst) h(src.ptr, sh, mid);
  else k.resizeV(src.ptr, sw * 4, mid, height, yb, yw, wy.taps);
  const t1 = performance.now();
  if (hFirst) k.resizeV(mid, width * 4, dst, height, yb, yw, wy.taps);
  else h(mid, height, dst);
  const t2 = performance.now();
  if (!("resizeVHT" in k)) return hFirst ? [t2 - t1, t1 - t0, NaN] : [t1 - t0, t2 - t1, NaN];
  const b = new Arena(k);
  const again = b.load(images.get(c)!);
  const t3 = performance.now();
  resizeAt(b, again, width, height, kernel);
  const t4 = performance.now();
  return hFirst ? [t2 - t1, t1 - t0, t4 - t3] : [t1 - t0, t2 - t1, t4 - t3];
}

for (const c of CASES) {
  const times = new Map<string, number[][]>();
  for (const [name] of modules) {
    for (const kernel of BENCH_KERNELS) times.set(`${name} ${kernel}`, [[], [], []]);
  }
  for (let r = 0; r < rounds; r++) {
    for (const kernel of BENCH_KERNELS) {
      for (const [name, k] of r % 2 ? [...modules].reverse() : modules) {
        const t = timeOnce(k, c, kernel);
        const into = times.get(`${name} ${kernel}`)!;
        t.forEach((ms, i) => into[i].push(ms));
      }
    }
  }
  const [sw, sh, width, height] = c;
  console.log(`\n${sw}x${sh} → ${width}x${height}, least of ${rounds} rounds (ms)`);
  console.log("module  kernel   | vertical | horizontal | resize | x linear");
  for (const [name] of modules) {
    const base = Math.min(...times.get(`${name} linear`)![2]);
    for (const kernel of BENCH_KERNELS) {
      const [v, h, all] = times.get(`${name} ${kernel}`)!.map((t) => Math.min(...t));
      console.log(
        `${name.padEnd(7)} ${kernel.padEnd(8)} | ${v.toFixed(2).padStart(8)} | ${
          h.toFixed(2).padStart(10)
        } | ${all.toFixed(2).padStart(6)} | ${(all / base).toFixed(2).padStart(8)}`,
      );
    }
  }
}
