/**
 * End-to-end `--keep-metadata`: the real CLI, sequential, parallel with real
 * local workers and a remote worker over TCP, on inputs that carry EXIF
 * (orientation 6), XMP and ICC profiles (tests/fixtures/metadata, made by
 * make_metadata.sh with exiftool and webpmux; HEIC/AVIF with EXIF from
 * tests/fixtures/formats). Every mode writes the same bytes; exiftool (where
 * installed: .ci/run installs it) reads what was kept; without the flag
 * nothing is kept and the flag only adds metadata to the same image data.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readIcc } from "../ops/format_io.ts";
import { readMetadata } from "../ops/metadata.ts";
import { readExifOrientation, resetExifOrientation } from "../ops/exif.ts";
import { sniffFormat } from "../ops/formats.ts";
import { serveToRemoteWorker, withTempDir, zpix } from "./helpers.ts";
import { concat } from "../ops/bytes.ts";

const INPUTS: [URL, string][] = [
  ...["meta_jpeg.jpg", "meta_png.png", "meta_webp.webp", "meta_srgb.jpg"].map((
    name,
  ): [URL, string] => [new URL(`./fixtures/metadata/${name}`, import.meta.url), name]),
  ...["heic_irot_exif6.heic", "avif_irot_exif6.avif", "jpeg_prophoto.jpg"].map((
    name,
  ): [URL, string] => [new URL(`./fixtures/formats/${name}`, import.meta.url), name]),
];
/** Each input's output name with --format same. */
const OUTPUTS = INPUTS.map(([, name]) => name.replace(/\.heic$/, ".jpg"));
const PIPELINE = ["--op", "resize=12x12", "-q"];

function copyInputs(dir: string): string {
  const input = join(dir, "in");
  Deno.mkdirSync(input);
  for (const [url, name] of INPUTS) Deno.copyFileSync(url, join(input, name));
  return input;
}

function outputsOf(dir: string): Map<string, Uint8Array> {
  return new Map(OUTPUTS.map((name) => [name, Deno.readFileSync(join(dir, name))]));
}

async function metadataOf(bytes: Uint8Array) {
  const format = sniffFormat(bytes)!;
  return await readMetadata(bytes, format, await readIcc(bytes, format));
}

let exiftool = false;
try {
  exiftool = new Deno.Command("exiftool", { args: ["-ver"], stdout: "null" }).outputSync().success;
} catch {
  // not installed
}

/** `--keep-metadata` over the inputs by sequential, parallel and a remote worker: the outputs of each. */
async function runAllModes(dir: string, extra: string[]): Promise<Map<string, Uint8Array>[]> {
  const input = copyInputs(dir);
  const args = (out: string) => ["-i", input, "-o", join(dir, out), ...extra, ...PIPELINE];
  const seq = await zpix(["sequential", ...args("seq")]);
  assert.equal(seq.code, 0, seq.stderr);
  const par = await zpix(["parallel", "--workers", "2", ...args("par")]);
  assert.equal(par.code, 0, par.stderr);
  const remote = await serveToRemoteWorker(args("remote"));
  assert.equal(remote.code, 0, remote.stderr);
  return ["seq", "par", "remote"].map((out) => outputsOf(join(dir, out)));
}

Deno.test("metadata e2e: --keep-metadata gives the same bytes sequential, in parallel and on a remote worker; EXIF orientation is 1 where zpix turned the pixels", async () => {
  await withTempDir(async (dir) => {
    const [seq, par, remote] = await runAllModes(dir, ["--keep-metadata"]);
    for (const name of OUTPUTS) {
      assert.deepEqual(par.get(name), seq.get(name), `${name}: parallel`);
      assert.deepEqual(remote.get(name), seq.get(name), `${name}: remote`);
    }
    const m = new Map<string, Awaited<ReturnType<typeof metadataOf>>>();
    for (const name of OUTPUTS) m.set(name, await metadataOf(seq.get(name)!));
    // JPEG, HEIC and AVIF: the pixels were turned, the EXIF says so.
    for (const name of ["meta_jpeg.jpg", "heic_irot_exif6.jpg", "avif_irot_exif6.avif"]) {
      assert.equal(readExifOrientation(m.get(name)!.exif!), 1, name);
    }
    // PNG and WebP: orientation not applied, so kept.
    for (const name of ["meta_png.png", "meta_webp.webp"]) {
      assert.equal(readExifOrientation(m.get(name)!.exif!), 6, name);
    }
    for (const name of ["meta_jpeg.jpg", "meta_png.png", "meta_webp.webp"]) {
      assert.match(new TextDecoder().decode(m.get(name)!.xmp!), /zpix fixture/, name);
      // Display P3 converted to sRGB: the profile no longer describes the pixels, dropped.
      assert.equal(m.get(name)!.icc, null, name);
    }
    assert.equal(m.get("jpeg_prophoto.jpg")!.icc, null, "converted ProPhoto dropped");
    // An sRGB profile describes the pixels as they are: kept.
    const srgb = await readIcc(Deno.readFileSync(INPUTS[3][0]), "jpeg");
    assert.deepEqual(m.get("meta_srgb.jpg")!.icc, srgb);
  });
});

Deno.test(
  `metadata e2e: exiftool reads the kept EXIF, XMP and ICC, with --keep-icc the original profile${
    exiftool ? "" : " (ignored: exiftool is not installed; .ci/run installs it)"
  }`,
  { ignore: !exiftool },
  async () => {
    await withTempDir(async (dir) => {
      const input = copyInputs(dir);
      const out = join(dir, "out");
      const run = await zpix([
        "sequential",
        "-i",
        input,
        "-o",
        out,
        "--keep-metadata",
        "--keep-icc",
        ...PIPELINE,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const json = new Deno.Command("exiftool", {
        args: ["-j", "-n", "-Orientation", "-Make", "-Creator", "-ProfileDescription", out],
        stdout: "piped",
      }).outputSync();
      const tags = new Map<string, Record<string, unknown>>(
        JSON.parse(new TextDecoder().decode(json.stdout)).map((
          t: Record<string, unknown>,
        ) => [String(t.SourceFile).split("/").pop(), t]),
      );
      for (const [name, orientation] of [["meta_jpeg.jpg", 1], ["meta_webp.webp", 6]] as const) {
        const t = tags.get(name)!;
        assert.equal(t.Orientation, orientation, name);
        assert.equal(t.Make, "ZpixCam", name);
        assert.equal(String(t.Creator), "zpix fixture", name);
        assert.equal(t.ProfileDescription, "Display P3 (zpix test)", name);
      }
      assert.equal(tags.get("heic_irot_exif6.jpg")!.Orientation, 1);
      assert.equal(tags.get("avif_irot_exif6.avif")!.Orientation, 1);
    });
  },
);

/** A JPEG's bytes without its APP1 (EXIF, XMP) and APP2 (ICC) segments. */
function withoutMetadata(jpeg: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [jpeg.subarray(0, 2)];
  let i = 2;
  while (jpeg[i] === 0xff && jpeg[i + 1] !== 0xda) {
    const end = i + 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
    if (jpeg[i + 1] !== 0xe1 && jpeg[i + 1] !== 0xe2) parts.push(jpeg.subarray(i, end));
    i = end;
  }
  parts.push(jpeg.subarray(i));
  return concat(parts);
}

Deno.test("metadata e2e: without --keep-metadata nothing is kept, and the flag only adds metadata segments", async () => {
  await withTempDir(async (dir) => {
    const input = copyInputs(dir);
    const plain = await zpix(["sequential", "-i", input, "-o", join(dir, "plain"), ...PIPELINE]);
    assert.equal(plain.code, 0, plain.stderr);
    const kept = await zpix([
      "sequential",
      "-i",
      input,
      "-o",
      join(dir, "kept"),
      "--keep-metadata",
      ...PIPELINE,
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    const a = outputsOf(join(dir, "plain")), b = outputsOf(join(dir, "kept"));
    for (const name of OUTPUTS) {
      const m = await metadataOf(a.get(name)!);
      assert.deepEqual([m.exif, m.xmp, m.icc], [null, null, null], name);
      if (name.endsWith(".jpg")) {
        assert.ok(b.get(name)!.length >= a.get(name)!.length, name);
        assert.deepEqual(withoutMetadata(b.get(name)!), a.get(name), name);
      }
    }
  });
});

/** meta_jpeg.jpg with its EXIF block (APP1 after "Exif\0\0") changed by `mangle`, length kept. */
function withExif(mangle: (tiff: DataView) => void): Uint8Array {
  const jpeg = Deno.readFileSync(INPUTS[0][0]);
  let i = 2;
  while (!(jpeg[i + 1] === 0xe1 && jpeg[i + 4] === 0x45)) {
    i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
  }
  const out = jpeg.slice();
  const len = (jpeg[i + 2] << 8) | jpeg[i + 3];
  mangle(new DataView(out.buffer, i + 10, len - 8));
  return out;
}

Deno.test("metadata e2e: hostile EXIF (offsets past the end, huge counts, a bad header) is copied, never a crash", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    Deno.mkdirSync(input);
    const hostile: Record<string, Uint8Array> = {
      "past_end.jpg": withExif((v) => v.setUint32(4, 0xfffffff0, v.getUint16(0) === 0x4949)),
      "huge_count.jpg": withExif((v) => v.setUint16(8, 0xffff, v.getUint16(0) === 0x4949)),
      "bad_magic.jpg": withExif((v) => v.setUint16(2, 0x2b2b)),
      "zeros.jpg": withExif((v) => {
        for (let k = 8; k < v.byteLength; k++) v.setUint8(k, 0);
      }),
    };
    for (const [name, bytes] of Object.entries(hostile)) {
      Deno.writeFileSync(join(input, name), bytes);
    }
    const out = join(dir, "out");
    const run = await zpix(["sequential", "-i", input, "-o", out, "--keep-metadata", ...PIPELINE]);
    assert.equal(run.code, 0, run.stderr);
    for (const [name, bytes] of Object.entries(hostile)) {
      const kept = await metadataOf(Deno.readFileSync(join(out, name)));
      const source = await metadataOf(bytes);
      // Copied byte for byte, but for an orientation found (and applied) within bounds; a block
      // that is not TIFF is not EXIF: not copied.
      const expected = source.exif && resetExifOrientation(source.exif);
      assert.deepEqual(kept.exif, expected, name);
      assert.equal(kept.exif === null, name === "bad_magic.jpg", name);
      assert.match(new TextDecoder().decode(kept.xmp!), /zpix fixture/, name);
    }
  });
});
