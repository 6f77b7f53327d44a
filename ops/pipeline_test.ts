/**
 * Tests for ops/pipeline.ts: step parsing and formatting, resize geometry
 * for every fit mode, `place`, and whole pipelines on tiny hand-made
 * images whose expected pixels are computed here by hand (OpenCV's luma
 * formula, exact geometry), never by the code under test.
 */

import assert from "node:assert/strict";
import { createImage, type Image } from "./image.ts";
import {
  applyPipeline,
  type Fit,
  FITS,
  formatStep,
  MAX_DIMENSION,
  parseColour,
  parseSize,
  parseStep,
  place,
  planResize,
  type Position,
  resize,
  type Step,
  StepError,
} from "./pipeline.ts";

type RGBA = [number, number, number, number];

/** An image from rows of RGBA pixels. */
function imageOf(rows: RGBA[][]): Image {
  const image = createImage(rows[0].length, rows.length);
  rows.forEach((row, y) => row.forEach((px, x) => image.data.set(px, (y * row.length + x) * 4)));
  return image;
}

/** A solid image. */
function solid(width: number, height: number, px: RGBA): Image {
  return imageOf(Array.from({ length: height }, () => Array.from({ length: width }, () => px)));
}

/** The pixel at (x, y). */
function at(image: Image, x: number, y: number): RGBA {
  const i = (y * image.width + x) * 4;
  return [...image.data.subarray(i, i + 4)] as RGBA;
}

/** Every pixel, as rows. */
function rowsOf(image: Image): RGBA[][] {
  return Array.from(
    { length: image.height },
    (_, y) => Array.from({ length: image.width }, (_, x) => at(image, x, y)),
  );
}

/** OpenCV's fixed point BT.601 luma, computed independently of the kernels. */
function luma([r, g, b]: RGBA): number {
  return (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;
}

const RED: RGBA = [255, 0, 0, 255];
const GREEN: RGBA = [0, 255, 0, 255];
const BLUE: RGBA = [0, 0, 255, 255];
const WHITE: RGBA = [255, 255, 255, 255];
const BLACK: RGBA = [0, 0, 0, 255];

Deno.test("parseStep: every accepted form", () => {
  const cases: [string, Step][] = [
    ["resize=512x512", { op: "resize", width: 512, height: 512, fit: "fill" }],
    ["resize=640X480", { op: "resize", width: 640, height: 480, fit: "fill" }],
    ["resize=100x50:fill", { op: "resize", width: 100, height: 50, fit: "fill" }],
    ["resize=100x50:contain", { op: "resize", width: 100, height: 50, fit: "contain" }],
    ["resize=100x50:cover", { op: "resize", width: 100, height: 50, fit: "cover" }],
    ["resize=100x50:inside", { op: "resize", width: 100, height: 50, fit: "inside" }],
    ["resize=1x1", { op: "resize", width: 1, height: 1, fit: "fill" }],
    [
      `resize=${MAX_DIMENSION}x${MAX_DIMENSION}`,
      { op: "resize", width: MAX_DIMENSION, height: MAX_DIMENSION, fit: "fill" },
    ],
    ["RESIZE=8x8", { op: "resize", width: 8, height: 8, fit: "fill" }],
    ["to_gray", { op: "to_gray" }],
    ["gray", { op: "to_gray" }],
    ["Gray", { op: "to_gray" }],
    ["threshold=0", { op: "threshold", value: 0 }],
    ["threshold=128", { op: "threshold", value: 128 }],
    ["threshold=255", { op: "threshold", value: 255 }],
    ["flip=h", { op: "flip", axis: "h" }],
    ["flip=v", { op: "flip", axis: "v" }],
    ["flip=hv", { op: "flip", axis: "hv" }],
    ["flip=vh", { op: "flip", axis: "hv" }],
    ["flip=H", { op: "flip", axis: "h" }],
  ];
  for (const [text, step] of cases) assert.deepEqual(parseStep(text), step, text);
});

Deno.test("parseStep: every error is a StepError naming the problem", () => {
  const cases: [string, RegExp][] = [
    ["resize", /resize needs a size/],
    ["resize=", /resize needs a size/],
    ["resize=512", /not WIDTHxHEIGHT/],
    ["resize=512x", /not WIDTHxHEIGHT/],
    ["resize=ax5", /not WIDTHxHEIGHT/],
    ["resize=-5x5", /not WIDTHxHEIGHT/],
    ["resize=1.5x5", /not WIDTHxHEIGHT/],
    ["resize=0x5", /width 0/],
    ["resize=5x0", /height 0/],
    [`resize=${MAX_DIMENSION + 1}x5`, /must be 1\.\.65535/],
    ["resize=5x5:stretch", /unknown fit "stretch"/],
    ["resize=5x5:", /unknown fit ""/],
    ["to_gray=1", /takes no value/],
    ["gray=", /takes no value/],
    ["threshold", /threshold needs an integer 0\.\.255/],
    ["threshold=", /threshold needs an integer/],
    ["threshold=-1", /threshold needs an integer/],
    ["threshold=256", /threshold needs an integer/],
    ["threshold=12.5", /threshold needs an integer/],
    ["threshold=abc", /threshold needs an integer/],
    ["flip", /flip needs h, v or hv/],
    ["flip=", /flip needs h, v or hv/],
    ["flip=x", /flip needs h, v or hv/],
    ["blur=3", /unknown operation "blur"/],
    ["", /unknown operation/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseStep(text), (error: unknown) => {
      assert.ok(error instanceof StepError, `${text}: ${error}`);
      assert.match(error.message, message, text);
      return true;
    });
  }
});

Deno.test("parseSize: WxH, and its limits", () => {
  assert.deepEqual(parseSize("512x384"), { width: 512, height: 384 });
  assert.deepEqual(parseSize(" 3X4 "), { width: 3, height: 4 });
  for (const bad of ["512", "x", "0x1", "1x0", "65536x1", "1x2x3", ""]) {
    assert.throws(() => parseSize(bad), StepError, bad);
  }
});

Deno.test("formatStep: round-trips through parseStep", () => {
  const texts = [
    "resize=512x512",
    "resize=100x50:contain",
    "resize=100x50:cover",
    "resize=100x50:inside",
    "to_gray",
    "threshold=0",
    "threshold=255",
    "flip=h",
    "flip=v",
    "flip=hv",
  ];
  for (const text of texts) {
    assert.equal(formatStep(parseStep(text)), text);
    assert.deepEqual(parseStep(formatStep(parseStep(text))), parseStep(text));
  }
  assert.equal(formatStep(parseStep("resize=4x4:fill")), "resize=4x4");
  assert.equal(formatStep(parseStep("gray")), "to_gray");
  assert.equal(formatStep(parseStep("flip=vh")), "flip=hv");
  for (const fit of FITS) {
    const step = parseStep(`resize=7x9:${fit}`);
    assert.deepEqual(parseStep(formatStep(step)), step);
  }
});

Deno.test("planResize: hand-computed geometry for each fit on landscape/portrait/square", () => {
  const box = (fit: (typeof FITS)[number], width = 200, height = 200) => ({ width, height, fit });
  const plan = (
    scaledWidth: number,
    scaledHeight: number,
    width: number,
    height: number,
    left: number,
    top: number,
  ) => ({ scaledWidth, scaledHeight, width, height, left, top });
  const cases: [number, number, ReturnType<typeof box>, ReturnType<typeof plan>][] = [
    // landscape 400x300 into 200x200: contain/inside scale 0.5, cover 2/3 (266.67 → 267)
    [400, 300, box("fill"), plan(200, 200, 200, 200, 0, 0)],
    [400, 300, box("contain"), plan(200, 150, 200, 200, 0, 25)],
    [400, 300, box("cover"), plan(267, 200, 200, 200, -34, 0)],
    [400, 300, box("inside"), plan(200, 150, 200, 150, 0, 0)],
    // portrait 300x400
    [300, 400, box("fill"), plan(200, 200, 200, 200, 0, 0)],
    [300, 400, box("contain"), plan(150, 200, 200, 200, 25, 0)],
    [300, 400, box("cover"), plan(200, 267, 200, 200, 0, -34)],
    [300, 400, box("inside"), plan(150, 200, 150, 200, 0, 0)],
    // square 300x300 into a 200x100 box: contain/inside scale 1/3, cover 2/3
    [300, 300, box("fill", 200, 100), plan(200, 100, 200, 100, 0, 0)],
    [300, 300, box("contain", 200, 100), plan(100, 100, 200, 100, 50, 0)],
    [300, 300, box("cover", 200, 100), plan(200, 200, 200, 100, 0, -50)],
    [300, 300, box("inside", 200, 100), plan(100, 100, 100, 100, 0, 0)],
    // square into a square box: every fit gives the box
    [300, 300, box("contain"), plan(200, 200, 200, 200, 0, 0)],
    [300, 300, box("cover"), plan(200, 200, 200, 200, 0, 0)],
    [300, 300, box("inside"), plan(200, 200, 200, 200, 0, 0)],
    // upscaling: 10x5 into 100x100
    [10, 5, box("inside", 100, 100), plan(100, 50, 100, 50, 0, 0)],
    [10, 5, box("contain", 100, 100), plan(100, 50, 100, 100, 0, 25)],
    [10, 5, box("cover", 100, 100), plan(200, 100, 100, 100, -50, 0)],
    // extreme aspect: the thin side never rounds to 0
    [1000, 1, box("contain", 10, 10), plan(10, 1, 10, 10, 0, 4)],
    [1000, 1, box("inside", 10, 10), plan(10, 1, 10, 1, 0, 0)],
    [1, 1000, box("cover", 10, 10), plan(10, 10000, 10, 10, 0, -4995)],
    // odd padding: 3 spare rows → 1 above, 2 below
    [4, 1, box("contain", 4, 4), plan(4, 1, 4, 4, 0, 1)],
  ];
  for (const [w, h, step, expected] of cases) {
    assert.deepEqual(planResize(w, h, step), expected, `${w}x${h} → ${JSON.stringify(step)}`);
  }
});

Deno.test("place: pads with opaque black, crops what falls outside", () => {
  const src = imageOf([[RED, GREEN], [BLUE, WHITE]]);
  // 2x2 into 4x3 at (1, 1)
  assert.deepEqual(rowsOf(place(src, 4, 3, 1, 1)), [
    [BLACK, BLACK, BLACK, BLACK],
    [BLACK, RED, GREEN, BLACK],
    [BLACK, BLUE, WHITE, BLACK],
  ]);
  // cropped: 2x2 at (-1, -1) in a 1x1 keeps the bottom-right pixel
  assert.deepEqual(rowsOf(place(src, 1, 1, -1, -1)), [[WHITE]]);
  // exactly covering keeps the source's own alpha (no black fill)
  const translucent = solid(2, 2, [10, 20, 30, 40]);
  assert.deepEqual(rowsOf(place(translucent, 2, 2, 0, 0)), rowsOf(translucent));
  // entirely outside: all opaque black
  assert.deepEqual(rowsOf(place(src, 2, 1, 5, 0)), [[BLACK, BLACK]]);
  // shifted left past its own width: the uncovered right column is opaque black too
  const wide = imageOf([[RED, GREEN, BLUE, WHITE]]);
  assert.deepEqual(rowsOf(place(wide, 2, 1, -3, 0)), [[WHITE, BLACK]]);
  // shifted up: the uncovered bottom row is opaque black
  const tall = imageOf([[RED], [GREEN], [BLUE]]);
  assert.deepEqual(rowsOf(place(tall, 1, 2, 0, -2)), [[BLUE], [BLACK]]);
});

Deno.test("to_gray: OpenCV luma in R, G and B, alpha kept", () => {
  const src = imageOf([[RED, GREEN, BLUE], [WHITE, BLACK, [200, 100, 50, 7]]]);
  // (255*4899 + 8192) >> 14 = 76; green 150; blue 29
  assert.equal(luma(RED), 76);
  assert.equal(luma(GREEN), 150);
  assert.equal(luma(BLUE), 29);
  const gray = applyPipeline(src, [parseStep("to_gray")]);
  const g = (v: number, a = 255): RGBA => [v, v, v, a];
  assert.deepEqual(rowsOf(gray), [
    [g(76), g(150), g(29)],
    [g(255), g(0), g(luma([200, 100, 50, 7]), 7)],
  ]);
  assert.deepEqual(rowsOf(applyPipeline(src, [parseStep("gray")])), rowsOf(gray));
});

Deno.test("threshold: Y > T is white, Y == T is black; alpha kept", () => {
  const grey100: RGBA = [100, 100, 100, 200];
  assert.equal(luma(grey100), 100);
  const src = imageOf([[RED, grey100, WHITE, BLACK]]);
  const bw = (t: number) => rowsOf(applyPipeline(src, [{ op: "threshold", value: t }]))[0];
  const W: RGBA = [255, 255, 255, 255], B: RGBA = [0, 0, 0, 255];
  // red's luma is 76: black at T=76, white at T=75
  assert.deepEqual(bw(76)[0], B);
  assert.deepEqual(bw(75)[0], W);
  assert.deepEqual(bw(100)[1], [0, 0, 0, 200]);
  assert.deepEqual(bw(99)[1], [255, 255, 255, 200]);
  assert.deepEqual(bw(0), [W, [255, 255, 255, 200], W, B]);
  assert.deepEqual(bw(254), [B, [0, 0, 0, 200], W, B]);
  assert.deepEqual(bw(255), [B, [0, 0, 0, 200], B, B]);
});

Deno.test("flip: h, v and hv on a 3x2 image", () => {
  const p = (n: number): RGBA => [n, n * 2, n * 3, 255];
  const src = imageOf([[p(1), p(2), p(3)], [p(4), p(5), p(6)]]);
  const flip = (axis: string) => rowsOf(applyPipeline(src, [parseStep(`flip=${axis}`)]));
  assert.deepEqual(flip("h"), [[p(3), p(2), p(1)], [p(6), p(5), p(4)]]);
  assert.deepEqual(flip("v"), [[p(4), p(5), p(6)], [p(1), p(2), p(3)]]);
  assert.deepEqual(flip("hv"), [[p(6), p(5), p(4)], [p(3), p(2), p(1)]]);
  // 2x2, and flipping twice gives the original back
  const square = imageOf([[RED, GREEN], [BLUE, WHITE]]);
  assert.deepEqual(
    rowsOf(applyPipeline(square, [parseStep("flip=h")])),
    [[GREEN, RED], [WHITE, BLUE]],
  );
  assert.deepEqual(
    rowsOf(applyPipeline(square, [parseStep("flip=h"), parseStep("flip=h")])),
    rowsOf(square),
  );
});

Deno.test("resize fill: exact size, a solid colour stays exact", () => {
  const out = applyPipeline(solid(2, 2, [12, 34, 56, 255]), [parseStep("resize=3x5")]);
  assert.deepEqual([out.width, out.height], [3, 5]);
  assert.deepEqual(rowsOf(out), rowsOf(solid(3, 5, [12, 34, 56, 255])));
});

Deno.test("resize contain: opaque black bars at the right rows and columns", () => {
  // 8x4 red into 4x4: scaled to 4x2, rows 1-2 red, rows 0 and 3 black
  const landscape = applyPipeline(solid(8, 4, RED), [parseStep("resize=4x4:contain")]);
  const R = RED, K = BLACK;
  assert.deepEqual(rowsOf(landscape), [
    [K, K, K, K],
    [R, R, R, R],
    [R, R, R, R],
    [K, K, K, K],
  ]);
  // 2x6 green into 6x3: scaled to 1x3, column 2 (floor(5/2)) green
  const portrait = applyPipeline(solid(2, 6, GREEN), [parseStep("resize=6x3:contain")]);
  const G = GREEN;
  assert.deepEqual(rowsOf(portrait), [
    [K, K, G, K, K, K],
    [K, K, G, K, K, K],
    [K, K, G, K, K, K],
  ]);
  // transparent input: the bars are opaque, the image keeps its alpha
  const clear = applyPipeline(solid(4, 2, [9, 9, 9, 0]), [parseStep("resize=4x4:contain")]);
  assert.deepEqual(at(clear, 0, 0), BLACK);
  assert.deepEqual(at(clear, 0, 1), [9, 9, 9, 0]);
});

Deno.test("resize cover: keeps the centre, crops the sides", () => {
  // three 2-px vertical bands red|green|blue, 6x2 → cover 2x2: green
  const bands = imageOf([
    [RED, RED, GREEN, GREEN, BLUE, BLUE],
    [RED, RED, GREEN, GREEN, BLUE, BLUE],
  ]);
  assert.deepEqual(rowsOf(applyPipeline(bands, [parseStep("resize=2x2:cover")])), [
    [GREEN, GREEN],
    [GREEN, GREEN],
  ]);
  // the same, upright: horizontal bands 2x6 → cover 2x2
  const rows = imageOf([[RED, RED], [RED, RED], [GREEN, GREEN], [GREEN, GREEN], [BLUE, BLUE], [
    BLUE,
    BLUE,
  ]]);
  assert.deepEqual(rowsOf(applyPipeline(rows, [parseStep("resize=2x2:cover")])), [
    [GREEN, GREEN],
    [GREEN, GREEN],
  ]);
});

Deno.test("resize inside: keeps aspect, no padding", () => {
  const out = applyPipeline(solid(8, 4, BLUE), [parseStep("resize=4x4:inside")]);
  assert.deepEqual([out.width, out.height], [4, 2]);
  assert.deepEqual(rowsOf(out), rowsOf(solid(4, 2, BLUE)));
});

Deno.test("pipeline order matters", () => {
  // black|white averaged to ~128, then threshold: white. Threshold first, then
  // resize: the average of 0 and 255 again, a mid grey, not black or white.
  const pair = imageOf([[BLACK, WHITE]]);
  const resizeThen = applyPipeline(pair, [parseStep("resize=1x1"), parseStep("threshold=100")]);
  assert.deepEqual(rowsOf(resizeThen), [[WHITE]]);
  const thresholdThen = at(
    applyPipeline(pair, [parseStep("threshold=100"), parseStep("resize=1x1")]),
    0,
    0,
  );
  assert.ok(thresholdThen[0] >= 120 && thresholdThen[0] <= 135, `${thresholdThen}`);

  // contain pads 1 row above and 2 below; flipping before or after moves the strip
  const strip = solid(4, 1, RED);
  const containThenFlip = applyPipeline(strip, [
    parseStep("resize=4x4:contain"),
    parseStep("flip=v"),
  ]);
  const flipThenContain = applyPipeline(strip, [
    parseStep("flip=v"),
    parseStep("resize=4x4:contain"),
  ]);
  assert.deepEqual(at(containThenFlip, 0, 2), RED);
  assert.deepEqual(at(containThenFlip, 0, 1), BLACK);
  assert.deepEqual(at(flipThenContain, 0, 1), RED);
  assert.deepEqual(at(flipThenContain, 0, 2), BLACK);

  // gray then threshold: luma of red (76) decides; threshold then gray: black/white too
  const red = solid(1, 1, RED);
  assert.deepEqual(
    at(applyPipeline(red, [parseStep("to_gray"), parseStep("threshold=75")]), 0, 0),
    WHITE,
  );
  // flip then threshold on a 2x1: pixels move and are binarised
  const mixed = imageOf([[RED, [10, 10, 10, 255]]]);
  assert.deepEqual(
    rowsOf(applyPipeline(mixed, [parseStep("threshold=50"), parseStep("flip=h")])),
    [[BLACK, WHITE]],
  );
});

Deno.test("applyPipeline: empty pipeline returns the image, onStep sees each step", () => {
  const src = solid(2, 2, RED);
  assert.equal(applyPipeline(src, []), src);
  const seen: string[] = [];
  const steps = ["resize=3x3:contain", "gray", "threshold=9", "flip=hv"].map(parseStep);
  const times: number[] = [];
  const started = performance.now();
  const out = applyPipeline(src, steps, (step, ms) => {
    times.push(ms);
    seen.push(formatStep(step));
  });
  const elapsed = performance.now() - started;
  // Each step's duration, not a timestamp: together they fit in the call's own time.
  assert.ok(times.every((ms) => ms >= 0), `${times}`);
  assert.ok(times.reduce((a, b) => a + b, 0) <= elapsed, `${times} in ${elapsed} ms`);
  assert.deepEqual(seen, ["resize=3x3:contain", "to_gray", "threshold=9", "flip=hv"]);
  assert.deepEqual([out.width, out.height], [3, 3]);
  // the input is never modified
  assert.deepEqual(rowsOf(src), rowsOf(solid(2, 2, RED)));
});

Deno.test("parseStep: resize options in any order — fit, position, no-enlarge, bg=COLOUR", () => {
  assert.deepEqual(parseStep("resize=100x50:cover:top-left"), {
    op: "resize",
    width: 100,
    height: 50,
    fit: "cover",
    position: "top-left",
  });
  assert.deepEqual(parseStep("resize=100x50:bg=#fff:no-enlarge:contain:center"), {
    op: "resize",
    width: 100,
    height: 50,
    fit: "contain",
    position: "centre",
    enlarge: false,
    background: [255, 255, 255, 255],
  });
  for (const text of ["resize=100x50:cover:top-left", "resize=9x9:contain:bottom:bg=#10203040"]) {
    assert.equal(formatStep(parseStep(text)), text);
  }
  assert.equal(formatStep(parseStep("resize=9x9:no-enlarge")), "resize=9x9:no-enlarge");
  assert.throws(() => parseStep("resize=9x9:cover:inside"), /gives the fit twice/);
  assert.throws(() => parseStep("resize=9x9:top:left"), /gives the position twice/);
  assert.throws(() => parseStep("resize=9x9:bg=#12"), /colour "#12" is not a name/);
});

Deno.test("parseColour: names and #rgb, #rgba, #rrggbb, #rrggbbaa", () => {
  assert.deepEqual(parseColour("white"), [255, 255, 255, 255]);
  assert.deepEqual(parseColour("Transparent"), [0, 0, 0, 0]);
  assert.deepEqual(parseColour("#f80"), [255, 136, 0, 255]);
  assert.deepEqual(parseColour("f808"), [255, 136, 0, 136]);
  assert.deepEqual(parseColour("#102030"), [16, 32, 48, 255]);
  assert.deepEqual(parseColour("#10203040"), [16, 32, 48, 64]);
  for (const bad of ["", "#", "#12345", "#gggggg", "orange"]) {
    assert.throws(() => parseColour(bad), StepError, bad);
  }
});

Deno.test("planResize: cover keeps the part its position names; contain puts the image there", () => {
  // 200x100 into 50x50: cover scales to 100x50 and crops 50 columns.
  const cover = (position?: Position) =>
    planResize(200, 100, { width: 50, height: 50, fit: "cover", position });
  assert.equal(cover().left, -25);
  assert.equal(cover("centre").left, -25);
  assert.equal(cover("left").left, 0);
  assert.equal(cover("top-left").left, 0);
  assert.equal(cover("right").left, -50);
  assert.equal(cover("bottom-right").left, -50);
  assert.equal(cover("top").top, 0);
  // 200x100 into 50x50: contain scales to 50x25 and pads 25 rows.
  const contain = (position?: Position) =>
    planResize(200, 100, { width: 50, height: 50, fit: "contain", position });
  assert.deepEqual([contain().left, contain().top], [0, 12]);
  assert.deepEqual([contain("top").left, contain("top").top], [0, 0]);
  assert.deepEqual([contain("bottom").top, contain("bottom-left").top], [25, 25]);
});

Deno.test("planResize with enlarge false: never scales up, only shrinks", () => {
  const small = (fit: Fit) => planResize(40, 20, { width: 100, height: 100, fit, enlarge: false });
  assert.deepEqual(
    [small("fill").width, small("fill").height, small("fill").scaledWidth],
    [40, 20, 40],
  );
  assert.deepEqual([small("inside").width, small("inside").height], [40, 20]);
  const contain = small("contain");
  assert.deepEqual(
    [contain.scaledWidth, contain.scaledHeight, contain.width, contain.height],
    [40, 20, 100, 100],
  );
  assert.deepEqual([contain.left, contain.top], [30, 40]);
  const cover = small("cover");
  assert.deepEqual([cover.scaledWidth, cover.scaledHeight, cover.width, cover.height], [
    40,
    20,
    40,
    20,
  ]);
  // A large source still shrinks as before.
  assert.deepEqual(
    planResize(400, 200, { width: 100, height: 100, fit: "inside", enlarge: false }),
    planResize(400, 200, { width: 100, height: 100, fit: "inside" }),
  );
  // cover of a source larger on one side only: scale 1, crop the long side to the box.
  const wide = planResize(400, 50, { width: 100, height: 100, fit: "cover", enlarge: false });
  assert.deepEqual([wide.scaledWidth, wide.scaledHeight, wide.width, wide.height], [
    400,
    50,
    100,
    50,
  ]);
});

Deno.test("contain pads with the step's background; cover crops where its position says", () => {
  // A 4x2 image: left half red, right half blue.
  const data = new Uint8Array(4 * 2 * 4);
  for (let i = 0; i < 8; i++) data.set(i % 4 < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
  const image = { width: 4, height: 2, data };
  const padded = resize(image, {
    width: 4,
    height: 4,
    fit: "contain",
    position: "top",
    background: [10, 20, 30, 40],
  });
  assert.deepEqual([...padded.data.subarray(0, 4)], [255, 0, 0, 255], "image at the top");
  assert.deepEqual([...padded.data.subarray(15 * 4, 16 * 4)], [10, 20, 30, 40], "bar below");
  const left = resize(image, { width: 2, height: 2, fit: "cover", position: "left" });
  const right = resize(image, { width: 2, height: 2, fit: "cover", position: "right" });
  assert.deepEqual([...left.data.subarray(0, 4)], [255, 0, 0, 255]);
  assert.deepEqual([...right.data.subarray(0, 4)], [0, 0, 255, 255]);
});

Deno.test("parseStep: a resize kernel, in any place; linear is the default and prints as none", () => {
  assert.deepEqual(parseStep("resize=100x50:lanczos3:inside"), {
    op: "resize",
    width: 100,
    height: 50,
    fit: "inside",
    kernel: "lanczos3",
  });
  assert.equal(formatStep(parseStep("resize=9x9:cover:Mitchell")), "resize=9x9:cover:mitchell");
  assert.equal(formatStep(parseStep("resize=9x9:linear")), "resize=9x9");
  assert.throws(() => parseStep("resize=9x9:cubic:nearest"), /gives the kernel twice/);
  assert.throws(() => parseStep("resize=9x9:lanczos"), /unknown fit "lanczos".*lanczos3/);
});

Deno.test("resize with a kernel: the step's kernel is applied (nearest keeps source values)", () => {
  const src: Image = {
    width: 4,
    height: 1,
    data: new Uint8Array([0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255, 50, 50, 50, 255]),
  };
  const nearest = resize(src, { width: 2, height: 1, fit: "fill", kernel: "nearest" });
  assert.deepEqual([...nearest.data], [100, 100, 100, 255, 50, 50, 50, 255]);
  const linear = resize(src, { width: 2, height: 1, fit: "fill" });
  assert.notDeepEqual([...linear.data], [...nearest.data]);
});
