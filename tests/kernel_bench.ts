/**
 * `--kernel`: the time of each kernel against linear (the default), per image,
 * in the fused JPEG path as a run does it (decode with shrink-on-load, resize,
 * encode at q75), on a 500x375 photo to 512x512 and a 3840x2400 photo to fit
 * 1024x1024 (decoded at 1/2, then resized 1920x1200 → 1024x640). Kernels
 * are interleaved, one image each in turn, `--rounds` times; the table shows,
 * per image, the least time of the resize over the rounds (the machine is
 * shared and noisy) and of the task (the least decode + the least resize +
 * the least encode), and their ratios to linear's. With `--input DIR`, its JPEGs (by size: under 1 MP the
 * first case, over 4 MP the second) instead of generated photo-like images.
 *
 * With `--pillow` (and `--input`; needs /usr/bin/python3 with Pillow), it
 * also compares lanczos3 with Pillow's LANCZOS on each of those photos (up to
 * 512x512, down to 160x120; PSNR over RGB): Pillow decodes with libjpeg-turbo,
 * which zpix's decoder matches bit for bit, so only the resize differs.
 *
 *   deno run --allow-read [--allow-run=/usr/bin/python3] tests/kernel_bench.ts \
 *     [--rounds N] [--input DIR] [--pillow]
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join } from "node:path";
import { transcodeJpegFast } from "../ops/transcode.ts";
import { readJpegInfo } from "../ops/jpeg_markers.ts";
import { parseStep, type Step } from "../ops/pipeline.ts";
import { encodeJpegFast, type Kernel, KERNELS, resizeRgba } from "../ops/kernels/mod.ts";
import { photoLikeImage, psnrRgb } from "../ops/kernels/test_util.ts";
import { decodeJpegFast } from "../ops/kernels/jpeg_decode.ts";

const { values } = benchArgs(import.meta.url, {
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "15" },
    input: { type: "string" },
    pillow: { type: "boolean" },
  },
});
const rounds = Number(values.rounds);

/** The JPEGs of `--input` whose pixel count `fits`, or one generated image. */
function inputs(width: number, height: number, fits: (pixels: number) => boolean): Uint8Array[] {
  if (!values.input) return [encodeJpegFast(photoLikeImage(width, height, 11), 90)];
  const files = [...Deno.readDirSync(values.input)].filter((e) => /\.jpe?g$/i.test(e.name))
    .map((e) => Deno.readFileSync(join(values.input!, e.name)))
    .filter((bytes) => {
      const info = readJpegInfo(bytes);
      return info !== null && fits(info.width * info.height);
    });
  return files.slice(0, 40);
}

const CASES: { name: string; step: string; files: Uint8Array[] }[] = [
  {
    name: "500x375 → 512x512",
    step: "resize=512x512",
    files: inputs(500, 375, (n) => n < 1e6),
  },
  {
    name: "3840x2400 → fit 1024",
    step: "resize=1024x1024:inside",
    files: inputs(3840, 2400, (n) => n > 4e6),
  },
];

/** Per image, the least time over the rounds; then the mean over the images. */
const best = (times: number[][]) => times.reduce((n, t) => n + Math.min(...t), 0) / times.length;

for (const { name, step, files } of CASES) {
  if (files.length === 0) {
    console.log(`${name}: no input of that size`);
    continue;
  }
  const steps = (kernel: Kernel): Step[] => [{ ...parseStep(step), kernel } as Step];
  const each = () => new Map<Kernel, number[][]>(KERNELS.map((k) => [k, files.map(() => [])]));
  const decode = each(), resize = each(), encode = each();
  for (const file of files) for (const k of KERNELS) transcodeJpegFast(file, steps(k), 75, 1e8); // warm up
  for (let r = 0; r < rounds; r++) {
    for (const [i, file] of files.entries()) {
      for (const k of r % 2 ? [...KERNELS].reverse() : KERNELS) {
        const out = transcodeJpegFast(file, steps(k), 75, 1e8)!;
        decode.get(k)![i].push(out.decode);
        resize.get(k)![i].push(out.steps[0]);
        encode.get(k)![i].push(out.encode);
      }
    }
  }
  console.log(
    `\n${name} (${files.length} image(s), ${rounds} rounds, ms per image: least of the rounds)`,
  );
  console.log("kernel    | task ms | x linear | resize ms | x linear");
  const task = (k: Kernel) => best(decode.get(k)!) + best(resize.get(k)!) + best(encode.get(k)!);
  const base = [task("linear"), best(resize.get("linear")!)];
  for (const k of KERNELS) {
    const [t, s] = [task(k), best(resize.get(k)!)];
    console.log(
      `${k.padEnd(9)} | ${t.toFixed(2).padStart(7)} | ${(t / base[0]).toFixed(2).padStart(8)} | ${
        s.toFixed(2).padStart(9)
      } | ${(s / base[1]).toFixed(2).padStart(8)}`,
    );
  }
}

/** Pillow's LANCZOS resize of the JPEG `path` to `width`x`height`, as RGBA. */
function pillowLanczos(path: string, width: number, height: number): Uint8Array {
  const script = "import sys\nfrom PIL import Image\n" +
    "im = Image.open(sys.argv[1]).convert('RGBA')\n" +
    "sys.stdout.buffer.write(im.resize((int(sys.argv[2]), int(sys.argv[3])), Image.LANCZOS).tobytes())";
  const out = new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, path, String(width), String(height)],
  }).outputSync();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return out.stdout;
}

if (values.pillow && values.input) {
  const names = [...Deno.readDirSync(values.input)].map((e) => e.name)
    .filter((name) => /\.jpe?g$/i.test(name)).sort().slice(0, 40);
  for (const [width, height] of [[512, 512], [160, 120]]) {
    const psnrs: number[] = [];
    for (const name of names) {
      const path = join(values.input, name);
      const image = decodeJpegFast(Deno.readFileSync(path));
      if (!image) continue;
      const ours = resizeRgba(image, width, height, "lanczos3").data;
      psnrs.push(psnrRgb(ours, pillowLanczos(path, width, height)));
    }
    psnrs.sort((a, b) => a - b);
    console.log(
      `\nlanczos3 against Pillow's LANCZOS, ${psnrs.length} photos to ${width}x${height}: ` +
        `min ${psnrs[0].toFixed(1)} dB, median ${psnrs[psnrs.length >> 1].toFixed(1)} dB`,
    );
  }
}
