// Decoding at 1/2, 1/4, 1/8 (shrink-on-load) against libjpeg-turbo's own
// scaled decoding (Pillow's draft mode, committed as PNGs by
// tests/fixtures/make_progressive_fixtures.py): the same reduced-size IDCTs
// (jidctred's 4x4, 2x2, 1x1), the same choice of a larger IDCT for chroma
// planes instead of upsampling them, plain upsampling at 1/8: pixel for
// pixel, for baseline 4:2:2, progressive 4:2:0 and progressive YCCK files.
// Needs --allow-read (fixtures; the PNG decoder loads its .wasm).
import { decodeImage } from "../codec.ts";
import { decodeJpegFastAt } from "./jpeg_decode.ts";
import { Arena } from "./mod.ts";
import { assert, assertEquals } from "./test_assert.ts";
import { encodeJpegFast } from "./mod.ts";
import { photoLikeImage } from "./test_util.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../../tests/fixtures/${name}`, import.meta.url));

Deno.test("decodeJpegFastAt at 1/2, 1/4, 1/8: libjpeg-turbo's scaled decoding exactly", async () => {
  for (const name of ["texture_420_prog", "texture_422_rst1b", "texture_ycck_prog"]) {
    for (const scale of [2, 4, 8] as const) {
      const what = `${name} at 1/${scale}`;
      const a = new Arena();
      const r = decodeJpegFastAt(a, fixture(`${name}.jpg`), scale);
      assert(r !== null, what);
      const ours = a.take(r!);
      const want = (await decodeImage(fixture(`${name}_1of${scale}_pil.png`))).image;
      assertEquals([ours.width, ours.height], [want.width, want.height], what);
      let n = 0;
      for (let i = 0; i < want.data.length; i++) if (ours.data[i] !== want.data[i]) n++;
      assertEquals(n, 0, `${what}: ${n} bytes differ from libjpeg-turbo's`);
    }
  }
});

Deno.test("decodeJpegFastAt: 4:2:0 chroma needs no upsampling once scaled, however narrow", () => {
  // at 1/2 and less, libjpeg decodes 4:2:0 chroma with a twice larger IDCT:
  // no fancy upsampling, so no minimum width either
  for (const [w, h, scale] of [[32, 64, 8], [8, 64, 2], [1, 1, 8]] as const) {
    const a = new Arena();
    const r = decodeJpegFastAt(a, encodeJpegFast(photoLikeImage(w, h), 80), scale);
    assert(r !== null, `${w}x${h} at 1/${scale}`);
    assertEquals([r!.width, r!.height], [Math.ceil(w / scale), Math.ceil(h / scale)]);
  }
});
