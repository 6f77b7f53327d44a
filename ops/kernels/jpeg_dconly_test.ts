// Progressive JPEGs at 1/8 (shrink-on-load's smallest scale): a component
// decoded at one sample a block keeps only its DC terms and skips its AC
// scans (jpeg_progressive.ts). The same files decoded in the same test with
// every coefficient kept (`keepAc`) give the same pixels, bit for bit: cjpeg
// fixtures with DC successive approximation (one and two refinements) and
// restart markers, MozJPEG files of several sizes (4:2:0, 4:4:4, gray),
// CMYK and YCCK; libjpeg-turbo's own 1/8 decoding (Pillow's draft mode,
// committed as PNGs) for the restart fixtures; less memory; damaged,
// truncated or out-of-order data in a skipped scan gives null, never throws.
// Needs --allow-read (fixtures; @jsquash and the PNG decoder load .wasm files).
import type { Image } from "../image.ts";
import { decodeImage } from "../codec.ts";
import { parseHeader } from "./jpeg_markers.ts";
import { planLayout } from "./jpeg_layout.ts";
import { decodeProgressiveAt } from "./jpeg_progressive.ts";
import { Arena } from "./mod.ts";
import { assert, assertEquals } from "./test_assert.ts";
import { mozjpegProgressive, photoLikeImage, rng } from "./test_util.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../../tests/fixtures/${name}`, import.meta.url));

/** Decodes `bytes` at 1/8: its image (null when declined) and the arena bytes used. */
function decode8(bytes: Uint8Array, keepAc: boolean): { image: Image | null; used: number } {
  const h = parseHeader(bytes);
  assert(h !== null && h.frame.progressive, "a progressive JPEG");
  const l = planLayout(h!, 8);
  assert(l !== null, "a layout at 1/8");
  const a = new Arena();
  const start = a.top;
  const r = decodeProgressiveAt(a, bytes, h!, l!, undefined, keepAc);
  return { image: r && a.take(r), used: a.top - start };
}

/** Asserts the DC-only decoding equals the full one; returns it. */
function assertSame(bytes: Uint8Array, what: string): Image {
  const dc = decode8(bytes, false), full = decode8(bytes, true);
  assert(full.image !== null, `${what}: declined`);
  assert(dc.image !== null, `${what}: declined DC-only`);
  assertEquals([dc.image!.width, dc.image!.height], [full.image!.width, full.image!.height], what);
  let n = 0;
  for (let i = 0; i < dc.image!.data.length; i++) {
    if (dc.image!.data[i] !== full.image!.data[i]) n++;
  }
  assertEquals(n, 0, `${what}: ${n} bytes differ`);
  assert(
    dc.used < full.used,
    `${what}: ${dc.used} bytes used, ${full.used} with every coefficient`,
  );
  return dc.image!;
}

Deno.test("1/8 DC-only: cjpeg, Pillow and ImageMagick progressive files, as with every coefficient", () => {
  for (
    const name of [
      "quad_progressive.jpg",
      "texture_420_prog.jpg",
      "texture_420_prog_rst3b.jpg",
      "texture_444_prog_rst2.jpg",
      "texture_gray_prog.jpg",
      "texture_gray_sa2_rst1b.jpg",
      "texture_cmyk_prog.jpg",
      "texture_ycck_prog.jpg",
    ]
  ) assertSame(fixture(name), name);
});

Deno.test("1/8 DC-only: restart markers and DC refinements, libjpeg-turbo's pixels exactly", async () => {
  for (const name of ["texture_420_prog_rst3b", "texture_gray_sa2_rst1b"]) {
    const ours = assertSame(fixture(`${name}.jpg`), name);
    const want = (await decodeImage(fixture(`${name}_1of8_pil.png`))).image;
    assertEquals([ours.width, ours.height], [want.width, want.height], name);
    let n = 0;
    for (let i = 0; i < want.data.length; i++) if (ours.data[i] !== want.data[i]) n++;
    assertEquals(n, 0, `${name}: ${n} bytes differ from libjpeg-turbo's`);
  }
});

Deno.test("1/8 DC-only: MozJPEG progressive files of several sizes, as with every coefficient", async () => {
  for (const [w, h] of [[1, 1], [9, 7], [61, 45], [203, 151], [640, 360]]) {
    const img = photoLikeImage(w, h, 3 * w + h);
    for (
      const opts of [
        { quality: 75 },
        { quality: 90, auto_subsample: false, chroma_subsample: 1 },
        { quality: 50, color_space: 1 },
      ]
    ) {
      assertSame(await mozjpegProgressive(img, opts), `mozjpeg ${w}x${h} ${JSON.stringify(opts)}`);
    }
  }
});

/** The offsets of the SOS markers of scans with Ss > 0 (AC scans). */
function acScans(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 2; i + 4 < b.length; i++) {
    if (b[i] === 0xff && b[i + 1] === 0xda && b[i + 5 + 2 * b[i + 4]] > 0) out.push(i);
  }
  return out;
}

Deno.test("1/8 DC-only: damaged, truncated or reordered data in skipped scans gives null or an image", () => {
  for (const name of ["texture_gray_sa2_rst1b.jpg", "texture_444_prog_rst2.jpg"]) {
    const good = fixture(name);
    // cut anywhere after the header: null (no EOI)
    const first = parseHeader(good)!.dataStart;
    for (let cut = first; cut < good.length; cut++) {
      assertEquals(decode8(good.subarray(0, cut), false).image, null, `${name} cut at ${cut}`);
    }
    // in the data of an AC scan: RST markers swapped, one dropped, one added
    const at = acScans(good)[0];
    const rst = good.findIndex((v, i) => i > at && v === 0xff && good[i + 1] === 0xd0);
    assert(rst > at, `${name}: an AC scan with restart markers`);
    const swapped = good.slice();
    swapped[rst + 1] = 0xd1;
    assertEquals(decode8(swapped, false).image, null, `${name}: RST1 first`);
    const dropped = new Uint8Array([...good.subarray(0, rst), ...good.subarray(rst + 2)]);
    assertEquals(decode8(dropped, false).image, null, `${name}: an RST dropped`);
    const added = new Uint8Array([...good.subarray(0, rst), 0xff, 0xd0, ...good.subarray(rst)]);
    assertEquals(decode8(added, false).image, null, `${name}: an RST added`);
    // random bytes and flipped bits anywhere after the header: null or a whole image
    const r = rng(11);
    for (let n = 0; n < 300; n++) {
      const bad = good.slice();
      const i = first + Math.floor(r() * (good.length - first));
      if (n % 2) bad[i] ^= 1 << Math.floor(r() * 8);
      else bad[i] = Math.floor(r() * 256);
      const img = decode8(bad, false).image;
      if (img) assertEquals(img.data.length, img.width * img.height * 4);
    }
  }
});
