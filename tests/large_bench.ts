/**
 * Large photos to fit 1024x1024 JPEG: zpix against sharp-cli and
 * vipsthumbnail (and OpenCV through `../shared/bench/reference.py` at its
 * fixed 512x512, for the JPEG cases), each run its own process tree timed
 * from outside, interleaved, the min of `--repeat` rounds.
 *
 *   deno run -A tests/large_bench.ts [--repeat R] [--workers N] [--cases jpeg,progressive,png,6000x4000] [--before DIR]
 *
 * The inputs are made in a temporary folder from the wallpapers of Debian's
 * plasma-workspace-wallpapers (/usr/share/wallpapers, those of 8 megapixels
 * or more): `jpeg` as they are (baseline), `progressive` the same files
 * through `jpegtran -progressive` (lossless), `png` the PNG ones,
 * `6000x4000` the JPEGs scaled up by Pillow (quality 90). A peer that is
 * not installed (sharp-cli in ../peers or /work/peers, vipsthumbnail from
 * libvips-tools, python3 with Pillow/OpenCV/pyzmq) is skipped, and said so.
 * `--before DIR` adds a row: zpix sequential from another checkout (its
 * main.ts, e.g. a worktree of main), interleaved with the others.
 *
 * Then, untimed, the quality of zpix's outputs (fit 1024, the default
 * kernel): each input decoded by Pillow and resized by OpenCV's INTER_AREA
 * to zpix's output size, against zpix's output, PSNR over RGB: before
 * encoding (zpix writing PNG) and as a run writes it (JPEG at quality 75,
 * decoded by Pillow); a table of the min and median per case, and whether
 * the min is at least 30 dB. `--repeat 0` makes only that table.
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join, resolve } from "node:path";
import { readDimensions } from "../ops/formats.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { zpixArgs } from "./helpers.ts";

const WALLPAPERS = "/usr/share/wallpapers";
const PYTHON = "/usr/bin/python3";
const REFERENCE = resolve(SOURCE_ROOT, "..", "shared", "bench", "reference.py");
const SHARP = [
  resolve(SOURCE_ROOT, "..", "peers", "node_modules", ".bin", "sharp"),
  "/work/peers/node_modules/.bin/sharp",
];
const MIN_PIXELS = 8e6;

/** Whether `program args` runs and succeeds (false if it is not installed). */
async function tryRun(program: string, args: string[]): Promise<boolean> {
  try {
    const result = await new Deno.Command(program, { args, stdout: "null", stderr: "null" })
      .output();
    return result.success;
  } catch {
    return false;
  }
}

/** One command of a row: program and arguments; `{out}` in an argument is the output folder. */
type Command = [string, string[]];

async function wallpapers(ext: RegExp): Promise<string[]> {
  const found: string[] = [];
  for await (const theme of Deno.readDir(WALLPAPERS)) {
    const dir = join(WALLPAPERS, theme.name, "contents", "images");
    try {
      for await (const file of Deno.readDir(dir)) {
        if (!ext.test(file.name)) continue;
        const path = join(dir, file.name);
        const head = await Deno.open(path).then(async (f) => {
          const buf = new Uint8Array(1 << 16);
          const n = await f.read(buf);
          f.close();
          return buf.subarray(0, n ?? 0);
        });
        const dims = readDimensions(head);
        if (dims && dims.width * dims.height >= MIN_PIXELS) found.push(path);
      }
    } catch {
      // a theme without contents/images
    }
  }
  return found.sort();
}

/** Makes each case's input folder; returns the cases that could be made. */
async function makeInputs(tmp: string, cases: string[]): Promise<Map<string, string>> {
  const made = new Map<string, string>();
  const jpegs = await wallpapers(/\.jpe?g$/i);
  const pngs = await wallpapers(/\.png$/i);
  const folder = async (name: string) => {
    const dir = join(tmp, name);
    await Deno.mkdir(dir);
    return dir;
  };
  for (const name of cases) {
    const dir = await folder(name);
    const copies = jpegs.map((src, i) => [src, join(dir, `w${i}.jpg`)]);
    if (name === "jpeg") {
      for (const [src, dst] of copies) await Deno.copyFile(src, dst);
    } else if (name === "progressive") {
      for (const [src, dst] of copies) {
        if (!await tryRun("jpegtran", ["-progressive", "-copy", "all", "-outfile", dst, src])) {
          break;
        }
      }
    } else if (name === "png") {
      for (const [i, src] of pngs.entries()) await Deno.copyFile(src, join(dir, `w${i}.png`));
    } else if (name === "6000x4000") {
      const script = "import sys\nfrom PIL import Image\nfor i, p in enumerate(sys.argv[2:]):\n" +
        "    Image.open(p).convert('RGB').resize((6000, 4000), Image.LANCZOS)" +
        ".save(f'{sys.argv[1]}/w{i}.jpg', quality=90)\n";
      await tryRun(PYTHON, ["-c", script, dir, ...jpegs]);
    }
    const count = [...Deno.readDirSync(dir)].length;
    if (count > 0) made.set(name, dir);
    else console.log(`case ${name}: skipped (no inputs could be made)`);
  }
  return made;
}

/**
 * PSNR over RGB of each image in `out` (zpix's outputs) against OpenCV's
 * INTER_AREA resize, to its size, of the input of the same name in `input`
 * decoded by Pillow; and of that resize written by Pillow as a JPEG at
 * quality 75 against itself (what JPEG costs alone). A line per output, the
 * two in dB (99 if identical).
 */
const PSNR_SCRIPT = `
import io, math, os, sys
import cv2, numpy as np
from PIL import Image
def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)
inp, out = sys.argv[1], sys.argv[2]
ours = {os.path.splitext(f)[0]: f for f in os.listdir(out)}
for f in sorted(os.listdir(inp)):
    a = np.asarray(Image.open(os.path.join(out, ours[os.path.splitext(f)[0]])).convert('RGB'))
    src = np.asarray(Image.open(os.path.join(inp, f)).convert('RGB'))
    b = cv2.resize(src, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    jpeg = io.BytesIO()
    Image.fromarray(b).save(jpeg, 'JPEG', quality=75)
    print(psnr(a, b), psnr(np.asarray(Image.open(jpeg).convert('RGB')), b))
`;

/** Min / median of zpix's PSNR against INTER_AREA ({@link PSNR_SCRIPT}), and of Pillow's JPEG of it. */
async function psnrAgainstArea(
  zpix: Command,
  input: string,
  out: string,
): Promise<[number, number][]> {
  await timed([zpix], out);
  const result = await new Deno.Command(PYTHON, { args: ["-c", PSNR_SCRIPT, input, out] })
    .output();
  if (!result.success) throw new Error(new TextDecoder().decode(result.stderr));
  const lines = new TextDecoder().decode(result.stdout).trim().split("\n")
    .map((line) => line.split(" ").map(Number));
  return [0, 1].map((column) => {
    const values = lines.map((v) => v[column]).sort((a, b) => a - b);
    return [values[0], values[values.length >> 1]];
  });
}

async function timed(commands: Command[], out: string): Promise<number> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  const started = performance.now();
  for (const [program, args] of commands) {
    const result = await new Deno.Command(program, {
      args: args.map((a) => a.replaceAll("{out}", out)),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!result.success) {
      throw new Error(`${program} failed: ${new TextDecoder().decode(result.stderr)}`);
    }
  }
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    args: Deno.args,
    options: {
      repeat: { type: "string", default: "3" },
      workers: { type: "string", default: "2" },
      cases: { type: "string", default: "jpeg,progressive,png,6000x4000" },
      before: { type: "string" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "zpix-large-" });
  try {
    const inputs = await makeInputs(tmp, values.cases.split(","));
    let sharp: string | null = null;
    for (const candidate of SHARP) {
      if (await tryRun(candidate, ["--version"])) {
        sharp = candidate;
        break;
      }
    }
    const vips = await tryRun("vipsthumbnail", ["--vips-version"]) ? "vipsthumbnail" : null;
    const reference = await tryRun(PYTHON, ["-c", "import zmq, PIL, cv2"]) &&
      await Deno.stat(REFERENCE).then(() => true, () => false);
    console.log(
      `large photos to fit 1024x1024 JPEG, ${values.workers} workers, ` +
        `${navigator.hardwareConcurrency} CPUs; sharp-cli: ${sharp ?? "missing"}, ` +
        `vipsthumbnail: ${vips ?? "missing"}, reference: ${reference ? "yes" : "missing"}`,
    );
    const zpix = (mode: string, input: string, extra: string[], root?: string): Command => [
      Deno.execPath(),
      zpixArgs([
        mode,
        "-i",
        input,
        "-o",
        "{out}",
        "-q",
        "--pattern",
        "*",
        "--format",
        "jpeg",
        ...extra,
      ]).map((arg) => root && arg === join(SOURCE_ROOT, "main.ts") ? join(root, "main.ts") : arg),
    ];
    const quality: string[] = [];
    for (const [name, input] of inputs) {
      const files = [...Deno.readDirSync(input)].map((e) => join(input, e.name)).sort();
      const fit = ["--op", "resize=1024x1024:inside"];
      const rows: Record<string, Command[]> = {
        "zpix sequential": [zpix("sequential", input, fit)],
        ...(values.before
          ? { "zpix sequential --before": [zpix("sequential", input, fit, resolve(values.before))] }
          : {}),
        [`zpix parallel ${values.workers}`]: [
          zpix("parallel", input, [...fit, "--workers", values.workers]),
        ],
      };
      if (sharp) {
        rows["sharp-cli"] = [[sharp, [
          "-i",
          ...files,
          "-o",
          "{out}/{name}.jpg",
          "-f",
          "jpeg",
          "resize",
          "1024",
          "1024",
          "--fit",
          "inside",
        ]]];
      }
      if (vips) rows["vipsthumbnail"] = [[vips, ["-s", "1024", "-o", "{out}/%s.jpg", ...files]]];
      if (reference && name !== "png") {
        rows["zpix sequential 512x512"] = [zpix("sequential", input, ["--size", "512", "512"])];
        rows["reference sequential 512x512"] = [[PYTHON, [
          REFERENCE,
          "sequential",
          input,
          "{out}",
        ]]];
      }
      if (reference) {
        const dB = ([min, median]: [number, number], width: number) =>
          `${min.toFixed(1)} / ${median.toFixed(1)}`.padEnd(width);
        const fitAs = (format: string) => zpix("sequential", input, [...fit, "--format", format]);
        const [png] = await psnrAgainstArea(fitAs("png"), input, join(tmp, "out"));
        const [jpeg, floor] = await psnrAgainstArea(fitAs("jpeg"), input, join(tmp, "out"));
        quality.push(
          `${name.padEnd(11)} | ${String(files.length).padStart(5)} | ${dB(png, 15)} | ${
            dB(jpeg, 21)
          } | ${dB(floor, 23)} | ${png[0] >= 30 ? "yes" : "NO"}`,
        );
      }
      if (Number(values.repeat) === 0) continue;
      const best: Record<string, number> = {};
      for (let round = 0; round < Number(values.repeat); round++) {
        for (const [label, commands] of Object.entries(rows)) {
          const seconds = await timed(commands, join(tmp, "out"));
          best[label] = Math.min(best[label] ?? Infinity, seconds);
        }
      }
      console.log(`\n${name}: ${files.length} files (min of ${values.repeat}, interleaved)`);
      for (const [label, seconds] of Object.entries(best)) {
        console.log(`  ${label.padEnd(30)} ${seconds.toFixed(2).padStart(7)} s`);
      }
      const peers = [best["sharp-cli"], best["vipsthumbnail"]].filter((s) => s !== undefined);
      if (peers.length) {
        const peer = Math.min(...peers);
        for (const label of ["zpix sequential", `zpix parallel ${values.workers}`]) {
          console.log(`  faster peer / ${label} (speed): ${(peer / best[label]).toFixed(2)}x`);
        }
      }
      const ref = best["reference sequential 512x512"];
      if (ref) {
        console.log(
          `  zpix / reference at 512x512, sequential (speed): ${
            (ref / best["zpix sequential 512x512"]).toFixed(2)
          }x`,
        );
      }
    }
    if (quality.length) {
      console.log(
        "\nzpix (fit 1024, linear) against OpenCV INTER_AREA of the Pillow-decoded input, " +
          "PSNR over RGB in dB, min / median:",
      );
      console.log(
        "case        | files | PNG (unencoded) | JPEG q75 (as written) | Pillow's JPEG q75 of it " +
          "| PNG >= 30 dB",
      );
      for (const line of quality) console.log(line);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
