/**
 * Memory benchmark (not a unit test): the resident memory of a worker over
 * thousands of images, and what huge images cost.
 *
 *   deno run -A tests/memory_bench.ts [--images 5000] [--distinct 200] [--size 320x240]
 *   deno run -A tests/memory_bench.ts --huge
 *   deno run -A tests/memory_bench.ts --file BIG.jpg
 *
 * The first form runs `zpix parallel -w 1` over a folder of `--images`
 * symlinks to `--distinct` generated images and samples the worker's VmRSS
 * (/proc/PID/status) every 250 ms against the images done. WASM memories
 * grow and never shrink, so a leak or a high-water mark shows as a rising
 * line. The second form times one 6000x4000 JPEG (worker peak RSS from
 * VmHWM), one over --max-pixels, and a 10000x10000 PNG to 512x512. The
 * third measures a JPEG of your own (a progressive one made by Pillow, say)
 * the same way. `-A` because Deno lets only --allow-all read /proc.
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { encodeImage } from "../ops/codec.ts";
import { PNG_SIGNATURE, pngChunk as chunk } from "../ops/png_chunks.ts";
import { sampleImage } from "../ops/samples.ts";
import { startRun, workerPids } from "./reliability_helpers.ts";
import { concat } from "../ops/bytes.ts";

const MB = 1024 * 1024;

/** VmRSS and VmHWM of a process in bytes, or null once it is gone. */
function memory(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)![1]);
    return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
  } catch {
    return null;
  }
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

async function steadyRun(images: number, distinct: number, width: number, height: number) {
  const dir = await Deno.makeTempDir({ prefix: "zpix-membench-" });
  try {
    const input = join(dir, "in");
    const sources = join(input, ".src"); // not listed: the run is not --recursive
    await Deno.mkdir(sources, { recursive: true });
    for (let i = 0; i < distinct; i++) {
      const png = i % 4 === 3;
      const bytes = await encodeImage(
        sampleImage(width, height, i + 1, png && i % 8 === 7),
        png ? "png" : "jpeg",
        {
          quality: 85,
        },
      );
      await Deno.writeFile(join(sources, `s${i}.${png ? "png" : "jpg"}`), bytes);
    }
    for (let i = 0; i < images; i++) {
      const s = i % distinct;
      const ext = s % 4 === 3 ? "png" : "jpg";
      await Deno.symlink(
        join(sources, `s${s}.${ext}`),
        join(input, `img${String(i).padStart(6, "0")}.${ext}`),
      );
    }
    console.log(
      `${images} images (${distinct} distinct ${width}x${height}, 1 in 4 PNG) → resize=128x128, 1 worker`,
    );
    const run = startRun([
      "parallel",
      ...["--input", input, "--output", join(dir, "out"), "--size", "128", "128", "-w", "1"],
      ...["--log-format", "json", "--verbose", "--report", join(dir, "report.json")],
    ]);
    const samples: { done: number; rss: number; hwm: number; pid: number }[] = [];
    let done = 0;
    let finished = false;
    void run.done.then(() => finished = true);
    const started = performance.now();
    while (!finished) {
      // --verbose: one JSON line per image written.
      done += run.lines.splice(0).filter((line) => line.text.includes('"output":')).length;
      const [pid] = workerPids(input);
      const mem = pid ? memory(pid) : null;
      if (pid && mem) samples.push({ done, pid, ...mem });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const { code } = await run.done;
    const seconds = (performance.now() - started) / 1000;
    const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
    console.log(
      `exit ${code}, ${report.processed} processed in ${
        seconds.toFixed(1)
      } s, workers: ${report.workers.length}`,
    );
    const busy = samples.filter((s) => s.done > 0);
    if (!busy.length) return;
    console.log("images done → worker VmRSS");
    let next = 0;
    for (const sample of busy) {
      if (sample.done >= next) {
        console.log(`  ${String(sample.done).padStart(6)}  ${mb(sample.rss)}`);
        next = sample.done + Math.max(1, Math.floor(images / 10));
      }
    }
    const first = busy[0], last = busy.at(-1)!;
    const peak = Math.max(...busy.map((s) => s.hwm));
    console.log(
      `worker RSS: start ${mb(first.rss)} (after ${first.done} images), end ${
        mb(last.rss)
      } (after ${last.done}), peak ${mb(peak)} (VmHWM), ${
        new Set(busy.map((s) => s.pid)).size
      } worker process(es)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A PNG of `image` (RGBA, every row filter None, zlib level 1): the Rust
 * encoder takes minutes and gigabytes for 100 megapixels.
 */
function quickPng(image: { width: number; height: number; data: Uint8Array }): Uint8Array {
  const { width, height, data } = image;
  const raw = new Uint8Array(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) {
    raw.set(data.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const parts = [
    new Uint8Array(PNG_SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 1 })),
    chunk("IEND", new Uint8Array(0)),
  ];
  return concat(parts);
}

async function hugeRun(
  width: number,
  height: number,
  extra: string[],
  format: "jpeg" | "png" = "jpeg",
  file?: string,
) {
  const dir = await Deno.makeTempDir({ prefix: "zpix-membench-" });
  try {
    const input = join(dir, "in");
    await Deno.mkdir(input);
    let t = performance.now();
    const image = file ? null : sampleImage(width, height, 7);
    const bytes = !image
      ? await Deno.readFile(file!)
      : format === "png"
      ? quickPng(image)
      : await encodeImage(image, "jpeg", { quality: 85 });
    await Deno.writeFile(join(input, `huge.${format === "png" ? "png" : "jpg"}`), bytes);
    console.log(
      `${file ?? `${width}x${height}`} ${format.toUpperCase()} (${mb(bytes.length)}) ${
        file ? "read" : "made"
      } in ${((performance.now() - t) / 1000).toFixed(1)} s; zpix ${extra.join(" ")}`,
    );
    t = performance.now();
    const run = startRun([
      "parallel",
      ...["--input", input, "--output", join(dir, "out"), "--size", "512", "512", "-w", "1", "-q"],
      ...["--report", join(dir, "report.json"), ...extra],
    ]);
    let peak = 0;
    let finished = false;
    void run.done.then(() => finished = true);
    while (!finished) {
      for (const pid of workerPids(input)) peak = Math.max(peak, memory(pid)?.hwm ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { code } = await run.done;
    const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
    console.log(
      `  exit ${code} in ${
        ((performance.now() - t) / 1000).toFixed(1)
      } s (worker start-up included); stages ms: decode ${report.stages.decode}, ops ${report.stages.ops}, encode ${report.stages.encode}; worker peak RSS ${
        mb(peak)
      }`,
    );
    for (const failure of report.failed) console.log(`  failed: ${failure.error}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = benchArgs(import.meta.url, {
    args: Deno.args,
    options: {
      images: { type: "string", default: "5000" },
      distinct: { type: "string", default: "200" },
      size: { type: "string", default: "320x240" },
      huge: { type: "boolean" },
      file: { type: "string" },
    },
  });
  if (values.file) await hugeRun(0, 0, [], "jpeg", values.file);
  else if (values.huge) {
    await hugeRun(6000, 4000, []);
    await hugeRun(6000, 4000, ["--max-pixels", "20000000"]);
    await hugeRun(10000, 10000, [], "png");
  } else {
    const [width, height] = values.size.split("x").map(Number);
    await steadyRun(Number(values.images), Number(values.distinct), width, height);
  }
}
