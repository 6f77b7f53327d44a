/**
 * Progressive against baseline JPEG decoding (issue 15's check: progressive
 * within 1.3x of a baseline decode): zpix's own decoder on the same photos
 * as baseline files and as `jpegtran -progressive` copies of them (the same
 * coefficients, libjpeg's default progression), at full size and at 1/2
 * (the shrink-on-load scale of fitting a 3840x2400 photo in 1024x1024). CPU
 * time of the decode alone, in this process, interleaved (the order turned
 * each round), per file the least of `--repeat` rounds; prints the
 * progressive/baseline ratio of the means and per file.
 *
 *   deno run -A tests/progressive_bench.ts [--repeat R] [--size 3840x2400]
 *
 * The inputs are made in a temporary folder from the wallpapers of Debian's
 * plasma-workspace-wallpapers (/usr/share/wallpapers, the 5120x2880 JPEGs),
 * scaled with vipsthumbnail's `vips thumbnail` and coded by cjpeg at quality
 * 90 (4:2:0); without those tools or wallpapers it says so and stops.
 *
 * @module
 */

import process from "node:process";
import { benchArgs } from "./bench_args.ts";
import { join } from "node:path";
import { Arena } from "../ops/kernels/mod.ts";
import { decodeJpegFastAt } from "../ops/kernels/jpeg_decode.ts";

const WALLPAPERS = "/usr/share/wallpapers";

/** Runs `program args`; false when it fails or is not installed. */
async function run(program: string, args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(program, { args, stdout: "null", stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

/** The 5120x2880 wallpaper JPEGs. */
async function sources(): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const theme of Deno.readDir(WALLPAPERS)) {
      const path = join(WALLPAPERS, theme.name, "contents", "images", "5120x2880.jpg");
      if (await Deno.stat(path).then(() => true, () => false)) found.push(path);
    }
  } catch {
    // no wallpapers: none found
  }
  return found.sort();
}

/** CPU milliseconds of one decode at `scale`. */
function decodeCpu(bytes: Uint8Array, scale: 1 | 2): number {
  const a = new Arena();
  const t0 = process.cpuUsage();
  const r = decodeJpegFastAt(a, bytes, scale);
  const t = process.cpuUsage(t0);
  if (!r) throw new Error("the decoder declined a bench input");
  return (t.user + t.system) / 1000;
}

const { values } = benchArgs(import.meta.url, {
  args: Deno.args,
  options: {
    repeat: { type: "string", default: "5" },
    size: { type: "string", default: "3840x2400" },
  },
});
const repeat = Math.max(1, Number(values.repeat) || 5);
const [w, h] = values.size.split("x").map(Number);
const srcs = (await sources()).slice(0, 7);
const dir = await Deno.makeTempDir({ prefix: "zpix-progressive-bench-" });
const files: { base: Uint8Array; prog: Uint8Array }[] = [];
for (const [i, src] of srcs.entries()) {
  const ppm = join(dir, `${i}.ppm`), base = join(dir, `${i}.jpg`), prog = join(dir, `${i}p.jpg`);
  const ok = await run("vips", [
    "thumbnail",
    src,
    ppm,
    String(w),
    "--height",
    String(h),
    "--size",
    "force",
  ]) &&
    await run("cjpeg", ["-quality", "90", "-outfile", base, ppm]) &&
    await run("jpegtran", ["-progressive", "-optimize", "-outfile", prog, base]);
  if (!ok) break;
  files.push({ base: await Deno.readFile(base), prog: await Deno.readFile(prog) });
}
await Deno.remove(dir, { recursive: true });
if (files.length === 0) {
  console.log(
    `no inputs: needs ${WALLPAPERS}/*/contents/images/5120x2880.jpg, vips, cjpeg, jpegtran`,
  );
  Deno.exit(0);
}
const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(
  `${files.length} photos ${w}x${h} q90 4:2:0, min of ${repeat} rounds, load average ${load}`,
);
for (const scale of [1, 2] as const) {
  const best = { base: files.map(() => Infinity), prog: files.map(() => Infinity) };
  for (let r = 0; r < repeat; r++) {
    for (const [i, f] of files.entries()) {
      for (const kind of r % 2 ? ["prog", "base"] as const : ["base", "prog"] as const) {
        best[kind][i] = Math.min(best[kind][i], decodeCpu(f[kind], scale));
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const b = mean(best.base), p = mean(best.prog);
  const per = best.prog.map((x, i) => (x / best.base[i]).toFixed(2)).join(" ");
  console.log(
    `1/${scale}: baseline ${b.toFixed(1)} ms, progressive ${p.toFixed(1)} ms, ` +
      `ratio ${(p / b).toFixed(2)} (per file ${per})`,
  );
}
