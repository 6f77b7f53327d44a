/**
 * PNG decoding benchmark (not a unit test): CPU time of `decodeImage` on
 * large PNGs against the Rust `png` crate zpix fell back to before
 * (`@jsquash/png`, with the chunk walk zpix did before it), against a
 * checkout given by `--before` (its `ops/codec.ts` imported into the same
 * process, runs interleaved), and against sharp (libspng/libpng, in node,
 * decoding to raw pixels) and libvips (`vips avg`, which decodes every
 * pixel; its start-up, measured on a 1x1 PNG, subtracted) when installed.
 *
 *   deno run -A tests/png_bench.ts [--rounds 5] [--before ../main] FILE.png...
 *
 * Make inputs from the wallpapers, e.g. with Pillow:
 * `Image.open(p).convert("RGB").save("x.png")`. Reports the median of
 * `--rounds` (interleaved) per file; the machine is shared, so compare
 * within a run and note `uptime`.
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import process from "node:process";
import { resolve } from "node:path";
import { decodeImage } from "../ops/codec.ts";
import { CODEC_WASM_SPECIFIERS } from "../ops/codec.ts";
import { compileSource, loadLibraries } from "../ops/codec_libs.ts";
import { readPngInfo } from "../ops/png_chunks.ts";

const SHARP = "/work/peers/node_modules/sharp";

/** CPU milliseconds of this process so far. */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The CRC walk of the old chunk reader: a table-driven CRC-32 in JS. */
function crcWalkJs(bytes: Uint8Array): void {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  let c = 0xffffffff;
  for (let i = 8; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
}

/** sharp's decode to raw pixels in node: median CPU ms of `rounds`, or null without node/sharp. */
async function sharpMs(file: string, rounds: number): Promise<number | null> {
  const script = `
    const sharp = require(${JSON.stringify(SHARP)});
    sharp.concurrency(1);
    (async () => {
      const ts = [];
      for (let i = 0; i <= ${rounds}; i++) {
        const a = process.cpuUsage();
        await sharp(${JSON.stringify(file)}).raw().toBuffer();
        const b = process.cpuUsage(a);
        if (i) ts.push((b.user + b.system) / 1000);
      }
      ts.sort((a, b) => a - b);
      console.log(ts[Math.floor(ts.length / 2)]);
    })();`;
  try {
    const out = await new Deno.Command("node", { args: ["-e", script], stderr: "null" }).output();
    return out.success ? Number(new TextDecoder().decode(out.stdout)) : null;
  } catch {
    return null;
  }
}

/** `vips avg FILE`: median wall ms of `rounds`, or null without vips. */
async function vipsMs(file: string, rounds: number): Promise<number | null> {
  const ts: number[] = [];
  for (let i = 0; i <= rounds; i++) {
    const t = performance.now();
    try {
      const out = await new Deno.Command("vips", { args: ["avg", file], stdout: "null" }).output();
      if (!out.success) return null;
    } catch {
      return null;
    }
    if (i) ts.push(performance.now() - t);
  }
  return median(ts);
}

if (import.meta.main) {
  const { values, positionals } = benchArgs(import.meta.url, {
    args: Deno.args,
    allowPositionals: true,
    options: { rounds: { type: "string", default: "5" }, before: { type: "string" } },
  });
  const rounds = Number(values.rounds);
  const before = values.before
    ? (await import(resolve(values.before, "ops/codec.ts"))).decodeImage as typeof decodeImage
    : null;
  const lib = await loadLibraries();
  lib.pngInitSync(await compileSource(undefined, CODEC_WASM_SPECIFIERS.png));
  const dir = await Deno.makeTempDir({ prefix: "zpix-pngbench-" });
  const tiny = `${dir}/tiny.png`;
  await Deno.writeFile(tiny, lib.pngEncode(new Uint8Array(4), 1, 1, 8));
  const vipsStart = await vipsMs(tiny, rounds);
  console.log(`load average: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  for (const file of positionals) {
    const bytes = await Deno.readFile(file);
    const info = readPngInfo(bytes)!;
    const mp = (info.width * info.height / 1e6).toFixed(1);
    const times: Record<string, number[]> = { rust: [], before: [], zpix: [] };
    const max = { maxPixels: 2e9 };
    await decodeImage(bytes, max); // warm up
    await before?.(bytes, max);
    for (let r = 0; r < rounds; r++) {
      let t = cpu();
      crcWalkJs(bytes);
      lib.pngDecode(bytes);
      times.rust.push(cpu() - t);
      if (before) {
        t = cpu();
        await before(bytes, max);
        times.before.push(cpu() - t);
      }
      t = cpu();
      await decodeImage(bytes, max);
      times.zpix.push(cpu() - t);
    }
    const sharp = await sharpMs(resolve(file), rounds);
    const vips = await vipsMs(file, rounds);
    const f = (x: number | null) => x === null ? "-" : x.toFixed(0);
    console.log(
      `${file}: ${info.width}x${info.height} (${mp} MP, type ${info.colorType}, ${info.bitDepth}-bit), ` +
        `CPU ms (median of ${rounds}): zpix ${f(median(times.zpix))}, Rust png + JS CRC ${
          f(median(times.rust))
        }${before ? `, --before ${f(median(times.before))}` : ""}; sharp raw ${f(sharp)}; ` +
        `vips avg wall ${f(vips === null || vipsStart === null ? null : vips - vipsStart)}`,
    );
  }
  await Deno.remove(dir, { recursive: true });
}
