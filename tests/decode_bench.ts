/**
 * zpix's JPEG decoder in this checkout against another one (`--before`,
 * e.g. a worktree of main): the decode alone (`decodeJpegFastAt`, what the
 * fused path runs before its steps), both in this process, interleaved per
 * file, per file the least wall time of `--repeat` rounds, then the sums
 * and their ratio. With `--same`, instead: whether both give the same
 * pixels and the same warnings for every file, at 1/1, 1/2, 1/4 and 1/8,
 * with and without warnings taken (null, a decline, must match too).
 *
 *   deno run -A tests/decode_bench.ts --before DIR --input DIR[,DIR...] [--scale 4] [--repeat 10] [--same]
 *
 * `--input`: folders of JPEGs, e.g. the 6000x4000 inputs of
 * `tests/large_bench.ts` (fit 1024 decodes them at 1/4: `--scale 4`) or
 * ../shared/datasets/photos (`--scale 1`).
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join, resolve } from "node:path";

type Decode = (
  a: unknown,
  bytes: Uint8Array,
  scale: number,
  inks?: boolean,
  warnings?: string[],
) => { width: number; height: number; ptr: number } | null;

interface Decoder {
  label: string;
  decode: Decode;
  Arena: new () => { view(): Uint8Array };
}

/** The decoder and arena of the checkout at `root` (its own wasm instance). */
async function decoderOf(root: string, label: string): Promise<Decoder> {
  const url = (path: string) => new URL(`file://${resolve(root, path)}`).href;
  const { decodeJpegFastAt } = await import(url("ops/kernels/jpeg_decode.ts"));
  const { Arena } = await import(url("ops/kernels/arena.ts"));
  return { label, decode: decodeJpegFastAt, Arena };
}

/** RGBA and warnings of one decode, or null when it declines. */
function pixels(d: Decoder, bytes: Uint8Array, scale: number, warn: boolean): string | null {
  const a = new d.Arena();
  const warnings = warn ? [] as string[] : undefined;
  const img = d.decode(a, bytes, scale, false, warnings);
  if (!img) return null;
  const px = a.view().subarray(img.ptr, img.ptr + img.width * img.height * 4);
  let hash = 0;
  for (let i = 0; i < px.length; i++) hash = (Math.imul(hash, 31) + px[i]) | 0;
  return `${img.width}x${img.height} ${hash} ${JSON.stringify(warnings)}`;
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    args: Deno.args,
    options: {
      before: { type: "string" },
      input: { type: "string" },
      scale: { type: "string", default: "4" },
      repeat: { type: "string", default: "10" },
      same: { type: "boolean", default: false },
    },
  });
  if (!values.before || !values.input) {
    console.error(
      "usage: decode_bench.ts --before DIR --input DIR[,DIR...] [--scale 4] [--repeat 10] [--same]",
    );
    Deno.exit(2);
  }
  const decoders = [
    await decoderOf(values.before, "before"),
    await decoderOf(new URL("..", import.meta.url).pathname, "this"),
  ];
  const files = values.input.split(",").flatMap((dir) =>
    [...Deno.readDirSync(dir)].filter((e) => /\.jpe?g$/i.test(e.name))
      .map((e) => join(dir, e.name)).sort()
  );
  if (values.same) {
    let differ = 0, compared = 0;
    for (const file of files) {
      const bytes = Deno.readFileSync(file);
      for (const scale of [1, 2, 4, 8]) {
        for (const warn of [false, true]) {
          compared++;
          const [a, b] = decoders.map((d) => pixels(d, bytes, scale, warn));
          if (a !== b) {
            differ++;
            console.log(`differ: ${file} at 1/${scale}${warn ? ", warnings taken" : ""}`);
          }
        }
      }
    }
    console.log(`${files.length} files, ${compared} decodes each side: ${differ} differ`);
    return;
  }
  const scale = Number(values.scale);
  const inputs = files.map((f) => Deno.readFileSync(f));
  const best = decoders.map(() => inputs.map(() => Infinity));
  for (let round = 0; round < Number(values.repeat); round++) {
    for (const [i, bytes] of inputs.entries()) {
      for (const [j, d] of decoders.entries()) {
        const a = new d.Arena();
        const started = performance.now();
        if (!d.decode(a, bytes, scale)) throw new Error(`${d.label} declines ${files[i]}`);
        best[j][i] = Math.min(best[j][i], performance.now() - started);
      }
    }
  }
  const sums = best.map((ms) => ms.reduce((s, x) => s + x, 0));
  console.log(
    `${files.length} files at 1/${scale}, decode alone, min of ${values.repeat} (interleaved):`,
  );
  for (const [j, d] of decoders.entries()) {
    console.log(`  ${d.label.padEnd(7)} ${sums[j].toFixed(1).padStart(8)} ms`);
  }
  console.log(`  this / before: ${(sums[1] / sums[0]).toFixed(3)}`);
}

if (import.meta.main) await main();
