/**
 * `--keep-metadata` in ops/: reading EXIF, XMP and ICC from every input
 * format (fixtures made by exiftool and webpmux, tests/fixtures/metadata/),
 * writing them into every output format, read back by exiftool, webpmux and
 * avifdec where they are installed (.ci/run installs exiftool), and hostile
 * containers that must never throw.
 */

import assert from "node:assert/strict";
import { decodeAny, encodeAny, readIcc } from "./format_io.ts";
import { type Metadata, metadataForOutput, readMetadata, resetXmpOrientation } from "./metadata.ts";
import { embedMetadata } from "./metadata_write.ts";
import { addHeifItems, readHeifMetadata } from "./heif_items.ts";
import { readExifOrientation } from "./exif.ts";
import { type Format, sniffFormat, WRITABLE_FORMATS } from "./formats.ts";

const FIXTURES = new URL("../tests/fixtures/metadata/", import.meta.url);
const FORMATS_DIR = new URL("../tests/fixtures/formats/", import.meta.url);
const read = (name: string) =>
  Deno.readFileSync(new URL(name, name.startsWith("meta_") ? FIXTURES : FORMATS_DIR));
const text = (b: Uint8Array | null) => b ? new TextDecoder().decode(b) : "";

async function metadataOf(bytes: Uint8Array): Promise<Metadata & { format: Format }> {
  const format = sniffFormat(bytes)!;
  return { format, ...(await readMetadata(bytes, format, await readIcc(bytes, format))) };
}

/** Whether `cmd` runs (a reference tool is installed). */
function has(cmd: string, arg: string): boolean {
  try {
    return new Deno.Command(cmd, { args: [arg], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

const EXIFTOOL = has("exiftool", "-ver");
const WEBPMUX = has("webpmux", "-version");
const AVIFDEC = has("avifdec", "--version");
const ignored = (ok: boolean, tool: string) => ok ? "" : ` (ignored: ${tool} is not installed)`;

function run(cmd: string, args: string[]): string {
  const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("metadata: EXIF, XMP and ICC are read from JPEG, PNG, WebP, HEIC and AVIF inputs", async () => {
  for (const name of ["meta_jpeg.jpg", "meta_png.png", "meta_webp.webp"]) {
    const m = await metadataOf(read(name));
    assert.equal(readExifOrientation(m.exif!), 6, name);
    assert.match(text(m.xmp), /<dc:creator>.*zpix fixture/s, name);
    assert.match(text(m.exif), /ZpixCam/, name);
    assert.ok(m.icc && m.icc.length > 100, name);
  }
  for (const name of ["heic_irot_exif6.heic", "avif_irot_exif6.avif"]) {
    const m = await metadataOf(read(name));
    assert.equal(readExifOrientation(m.exif!), 6, name);
  }
  const plain = await metadataOf(read("avif_plain.avif"));
  assert.deepEqual([plain.exif, plain.xmp], [null, null]);
});

Deno.test("metadata: the copied EXIF says orientation 1 where zpix turned the pixels (JPEG, HEIC, AVIF), not for PNG or WebP", async () => {
  for (
    const [name, expected] of [
      ["meta_jpeg.jpg", 1],
      ["heic_irot_exif6.heic", 1],
      ["avif_irot_exif6.avif", 1],
      ["meta_png.png", 6],
      ["meta_webp.webp", 6],
    ] as const
  ) {
    const m = await metadataOf(read(name));
    const out = metadataForOutput(m, m.format, null);
    assert.equal(readExifOrientation(out.exif!), expected, name);
    assert.equal(readExifOrientation(m.exif!), 6, `${name}: the input's block is untouched`);
  }
});

Deno.test("metadata: an XMP tiff:Orientation (attribute or element) is reset to 1 in place", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  const attr = enc(`<rdf:Description tiff:Orientation="6" tiff:Make="X"/>`);
  assert.equal(
    dec(resetXmpOrientation(attr)),
    `<rdf:Description tiff:Orientation="1" tiff:Make="X"/>`,
  );
  assert.equal(dec(attr), `<rdf:Description tiff:Orientation="6" tiff:Make="X"/>`, "copied");
  const element = enc("<tiff:Orientation> 8</tiff:Orientation><x>é</x>");
  assert.equal(
    dec(resetXmpOrientation(element)),
    "<tiff:Orientation> 1</tiff:Orientation><x>é</x>",
  );
  const none = enc("<dc:creator>tiff:Orientation is 6</dc:creator>");
  assert.equal(resetXmpOrientation(none), none);
  // JPEG input: reset; PNG input (orientation not applied): kept.
  const read = { exif: null, xmp: attr, icc: null };
  assert.match(dec(metadataForOutput(read, "jpeg", null).xmp!), /Orientation="1"/);
  assert.match(dec(metadataForOutput(read, "png", null).xmp!), /Orientation="6"/);
});

/** Each writable format, with the metadata of meta_jpeg.jpg (orientation reset) written in. */
async function outputs(): Promise<Map<string, Uint8Array>> {
  const m = await metadataOf(read("meta_jpeg.jpg"));
  const meta = metadataForOutput(m, "jpeg", m.icc);
  const image = (await decodeAny(read("meta_jpeg.jpg"), { keepIcc: true })).image;
  const out = new Map<string, Uint8Array>();
  for (const format of WRITABLE_FORMATS) {
    const plain = await encodeAny(image, format, { quality: 80 });
    const embedded = await embedMetadata(plain, format, meta);
    assert.deepEqual(embedded.warnings, [], format);
    out.set(format, embedded.bytes);
  }
  return out;
}

Deno.test("metadata: written into JPEG, PNG, WebP and AVIF, it reads back, and the pixels are unchanged", async () => {
  const source = await metadataOf(read("meta_jpeg.jpg"));
  for (const [format, bytes] of await outputs()) {
    const back = await metadataOf(bytes);
    assert.equal(back.format, format);
    assert.equal(readExifOrientation(back.exif!), 1, format);
    assert.equal(back.exif!.length, source.exif!.length, format);
    assert.deepEqual(back.xmp, source.xmp, format);
    assert.deepEqual(back.icc, source.icc, format);
    const image = (await decodeAny(bytes, { keepIcc: true })).image;
    assert.equal(image.width, 16, `${format}: the upright width`);
  }
});

Deno.test(
  `metadata: exiftool reads the EXIF, XMP and ICC zpix wrote into each output format${
    ignored(EXIFTOOL, "exiftool")
  }`,
  { ignore: !EXIFTOOL },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "zpix-meta-" });
    try {
      for (const [format, bytes] of await outputs()) {
        const path = `${dir}/out.${format}`;
        Deno.writeFileSync(path, bytes);
        const [tags] = JSON.parse(
          run("exiftool", [
            "-j",
            "-n",
            "-Orientation",
            "-Make",
            "-Creator",
            "-ProfileDescription",
            "-Warning",
            path,
          ]),
        );
        assert.equal(tags.Orientation, 1, format);
        assert.equal(tags.Make, "ZpixCam", format);
        assert.equal(String(tags.Creator), "zpix fixture", format);
        assert.equal(tags.ProfileDescription, "Display P3 (zpix test)", format);
        assert.equal(tags.Warning, undefined, `${format}: ${tags.Warning}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  `metadata: webpmux and avifdec see the chunks and items and decode the image${
    ignored(WEBPMUX && AVIFDEC, "webpmux or avifdec")
  }`,
  { ignore: !(WEBPMUX && AVIFDEC) },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "zpix-meta-" });
    try {
      const out = await outputs();
      Deno.writeFileSync(`${dir}/o.webp`, out.get("webp")!);
      Deno.writeFileSync(`${dir}/o.avif`, out.get("avif")!);
      const webp = run("webpmux", ["-info", `${dir}/o.webp`]);
      assert.match(webp, /Features present: ICC profile EXIF metadata XMP metadata/);
      const avif = run("avifdec", ["--info", `${dir}/o.avif`]);
      assert.match(avif, /ICC Profile\s*: Present/);
      assert.match(avif, /XMP Metadata\s*: Present/);
      assert.match(avif, /Exif Metadata\s*: Present/);
      run("avifdec", [`${dir}/o.avif`, `${dir}/o.png`]); // decodes
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("metadata: an EXIF or XMP over JPEG's 64 KB segment is dropped with a warning", async () => {
  const jpeg = await encodeAny({ width: 8, height: 8, data: new Uint8Array(256) }, "jpeg", {
    quality: 80,
  });
  const exif = new Uint8Array(70_000);
  exif.set([0x49, 0x49, 42, 0, 8, 0, 0, 0]);
  const r = await embedMetadata(jpeg, "jpeg", { exif, xmp: new Uint8Array(10), icc: null });
  assert.match(r.warnings.join(), /EXIF not kept: 70000 bytes/);
  const back = await metadataOf(r.bytes);
  assert.equal(back.exif, null);
  assert.equal(back.xmp?.length, 10);
});

Deno.test("metadata: hostile containers and metadata never throw (truncated, garbled, offsets past the end)", async () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const sources = [
    "meta_jpeg.jpg",
    "meta_png.png",
    "meta_webp.webp",
    "heic_irot_exif6.heic",
    "avif_irot_exif6.avif",
  ].map(read);
  for (const source of sources) {
    const format = sniffFormat(source)!;
    const cases: Uint8Array[] = [];
    for (let n = 0; n < source.length; n += Math.max(1, source.length >> 6)) {
      cases.push(source.subarray(0, n));
    }
    for (let k = 0; k < 150; k++) {
      const b = source.slice();
      for (let m = 0; m < 4; m++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
      cases.push(b);
    }
    for (const b of cases) {
      const m = await readMetadata(b, format, null);
      const out = metadataForOutput(m, format, null);
      if (format === "avif" || format === "heic") {
        readHeifMetadata(b);
        addHeifItems(b, { exif: out.exif, xmp: new Uint8Array(5) });
      }
    }
  }
  // Metadata is copied as opaque bytes: garbage EXIF is written, never parsed beyond IFD0.
  const garbage = new Uint8Array(64).map(() => Math.floor(random() * 256));
  garbage.set([0x4d, 0x4d, 0, 42, 0xff, 0xff, 0xff, 0xf0]);
  const image = { width: 8, height: 8, data: new Uint8Array(256).fill(128) };
  for (const format of WRITABLE_FORMATS) {
    const bytes = await encodeAny(image, format, { quality: 80 });
    const r = await embedMetadata(bytes, format, { exif: garbage, xmp: null, icc: null });
    assert.deepEqual((await metadataOf(r.bytes)).exif, garbage, format);
  }
});
