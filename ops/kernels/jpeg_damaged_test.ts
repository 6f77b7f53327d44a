// Damaged JPEG data (baseline and progressive) through decodeJpegFast's
// forgiving mode: like libjpeg-turbo (jdhuff.c, jdphuff.c) it decodes on
// with a warning where libjpeg only warns, and the pixels equal Pillow's
// (libjpeg-turbo 2.1.5) on the shipped damaged fixtures
// (tests/fixtures/make_damaged_fixtures.py); without a warnings array the
// decoder still declines damaged data (null). Bit flips anywhere never throw.
// Needs --allow-read (fixtures).
import { decodeImage } from "../codec.ts";
import { decodeJpegFast } from "./jpeg_decode.ts";
import { encodeJpegFast } from "./mod.ts";
import { assert, assertEquals } from "./test_assert.ts";
import { photoLikeImage } from "./test_util.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../../tests/fixtures/${name}`, import.meta.url));

/** The offset of the first entropy-coded byte (after the SOS segment). */
function scanStart(b: Uint8Array): number {
  for (let i = 2; i + 3 < b.length; i++) {
    if (b[i] === 0xff && b[i + 1] === 0xda) return i + 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  throw new Error("no SOS");
}

for (
  const [name, kind] of [
    ["ramp_ycck_flip", "YCCK (4 components)"],
    ["texture_420_rst1_flip", "4:2:0 with restart markers renumbered"],
    ["texture_444_prog_rst2_flip", "progressive, restart markers renumbered"],
  ]
) {
  Deno.test(`damaged ${kind} JPEG decodes like Pillow, with a warning (${name})`, async () => {
    const bytes = fixture(`${name}.jpg`);
    assertEquals(decodeJpegFast(bytes), null, "strict mode declines damaged data");
    const warnings: string[] = [];
    const got = decodeJpegFast(bytes, false, warnings);
    assert(got, "forgiving mode decodes");
    assert(warnings.some((w) => /Corrupt JPEG data/.test(w)), warnings.join());
    const want = (await decodeImage(fixture(`${name}_pil.png`))).image;
    assertEquals([got.width, got.height], [want.width, want.height]);
    let diff = 0;
    for (let i = 0; i < want.data.length; i++) if (got.data[i] !== want.data[i]) diff++;
    assertEquals(diff, 0, "pixels equal Pillow's");
  });
}

for (
  const [what, make] of [
    ["a generated baseline JPEG", () => encodeJpegFast(photoLikeImage(96, 64), 85)],
    ["a progressive 4:2:0 JPEG", () => fixture("texture_420_prog.jpg")],
    ["a progressive YCCK JPEG", () => fixture("texture_ycck_prog.jpg")],
  ] as const
) {
  Deno.test(`bit flips anywhere in ${what}'s scans: a decode or null, never a throw`, () => {
    const jpeg = make();
    const strict = decodeJpegFast(jpeg);
    assert(strict, "the undamaged file decodes");
    let warned = 0;
    for (let at = scanStart(jpeg); at < jpeg.length - 2; at += 7) {
      for (const bit of [0, 3, 6]) {
        const b = jpeg.slice();
        b[at] ^= 1 << bit;
        const warnings: string[] = [];
        const img = decodeJpegFast(b, false, warnings);
        if (img) assertEquals([img.width, img.height], [strict.width, strict.height]);
        if (warnings.length) warned++;
      }
    }
    assert(warned > 0, "some flips were forgiven with a warning");
  });
}

Deno.test("decodeImage surfaces the forgiven damage as warnings", async () => {
  const d = await decodeImage(fixture("ramp_ycck_flip.jpg"));
  assert(d.warnings.some((w) => /Corrupt JPEG data/.test(w)), d.warnings.join());
  assert(d.notes.some((n) => /YCCK JPEG converted/.test(n)), d.notes.join());
});
