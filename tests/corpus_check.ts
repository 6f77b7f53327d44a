/**
 * zpix against Pillow (libjpeg-turbo, zlib, LittleCMS) on the corpus that
 * `tests/corpus_check.py` makes: every file decoded by zpix's `decodeAny`
 * in this process; per kind of fault, how many files each took, the
 * crashes (anything thrown that is not a `DecodeError`), the files zpix
 * refused that Pillow decodes (with zpix's message), and the PSNR of the
 * files both took. Not a unit test (it needs the photos and the reference
 * tools); the figures go into docs/performance.md.
 *
 *   /usr/bin/python3 tests/corpus_check.py --photos ../shared/datasets/photos --count 40 --out /tmp/zpix-corpus
 *   deno run --allow-read --allow-env tests/corpus_check.ts /tmp/zpix-corpus
 */

import { DecodeError } from "../ops/codec.ts";
import { decodeAny } from "../ops/format_io.ts";

interface Entry {
  file: string;
  kind: string;
  pillow: boolean;
  width?: number;
  height?: number;
  error?: string;
}

interface Tally {
  files: number;
  pillow: number;
  zpix: number;
  warned: number;
  crashes: string[];
  lost: string[];
  psnr: number[];
}

/** PSNR (dB) of RGBA `a` against RGB `b`; Infinity when identical. */
function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  const n = b.length / 3;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const e = a[4 * i + c] - b[3 * i + c];
      se += e * e;
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n * 3) / se);
}

const dir = Deno.args[0] ?? "/tmp/zpix-corpus";
const manifest: Entry[] = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
const tallies = new Map<string, Tally>();
for (const e of manifest) {
  let t = tallies.get(e.kind);
  if (!t) {
    t = { files: 0, pillow: 0, zpix: 0, warned: 0, crashes: [], lost: [], psnr: [] };
    tallies.set(e.kind, t);
  }
  t.files++;
  if (e.pillow) t.pillow++;
  const bytes = await Deno.readFile(`${dir}/${e.file}`);
  try {
    const d = await decodeAny(bytes);
    t.zpix++;
    if (d.warnings.length > 0) t.warned++;
    if (e.pillow) {
      if (d.image.width !== e.width || d.image.height !== e.height) {
        t.psnr.push(0);
        continue;
      }
      t.psnr.push(psnr(d.image.data, await Deno.readFile(`${dir}/${e.file}.rgb`)));
    }
  } catch (err) {
    if (!(err instanceof DecodeError)) t.crashes.push(`${e.file}: ${err}`);
    else if (e.pillow) t.lost.push(`${e.file}: ${err.message}`);
  }
}

const fmt = (x: number | undefined) =>
  x === undefined ? "-" : x === Infinity ? "exact" : x.toFixed(1);
console.log(
  "| kind | files | Pillow took | zpix took (warned) | crashes | refused, Pillow took | PSNR min / median (dB) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
const total = { files: 0, crashes: 0, lost: 0 };
for (const [kind, t] of tallies) {
  const s = t.psnr.toSorted((a, b) => a - b);
  console.log(
    `| ${kind} | ${t.files} | ${t.pillow} | ${t.zpix} (${t.warned}) | ${t.crashes.length} | ${t.lost.length} | ${
      fmt(s[0])
    } / ${fmt(s[s.length >> 1])} |`,
  );
  total.files += t.files;
  total.crashes += t.crashes.length;
  total.lost += t.lost.length;
}
console.log(
  `\n${total.files} files: ${total.crashes} crashes, ${total.lost} refused that Pillow decodes`,
);
for (const t of tallies.values()) for (const line of [...t.crashes, ...t.lost]) console.log(line);
