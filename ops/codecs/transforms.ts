/**
 * The HEIF container's transformative properties applied to pixels:
 * `clap` (clean aperture: a centred crop), `irot` (rotation anticlockwise in
 * quarter turns) and `imir` (mirror: axis 0 exchanges top and bottom, 1
 * exchanges left and right, as libheif and libavif read it), in order.
 *
 * @module
 */

import { applyOrientation } from "../exif.ts";
import type { Image } from "../image.ts";
import type { Transform } from "../isobmff.ts";

/** Applies `transforms` in order; a transform it cannot make sense of (a zero denominator) is skipped. */
export function applyHeifTransforms(image: Image, transforms: readonly Transform[]): Image {
  let out = image;
  for (const t of transforms) {
    if (t.kind === "irot") {
      // EXIF orientation 8 turns 90 degrees anticlockwise, 3 half a turn, 6 clockwise.
      const o = [1, 8, 3, 6][t.angle];
      if (o !== 1) out = applyOrientation(out, o);
    } else if (t.kind === "imir") {
      out = applyOrientation(out, t.axis === 0 ? 4 : 2);
    } else {
      out = crop(out, t);
    }
  }
  return out;
}

function crop(image: Image, t: Extract<Transform, { kind: "clap" }>): Image {
  const div = ([n, d]: [number, number]) => d === 0 ? NaN : n / d;
  const w = Math.round(div(t.width)), h = Math.round(div(t.height));
  const cx = div(t.horizOff) + (image.width - 1) / 2;
  const cy = div(t.vertOff) + (image.height - 1) / 2;
  const left = Math.round(cx - (w - 1) / 2), top = Math.round(cy - (h - 1) / 2);
  if (
    !(w >= 1 && h >= 1) || !(left >= 0 && top >= 0) || left + w > image.width ||
    top + h > image.height
  ) {
    return image; // an aperture outside the image: ignored, as libheif does
  }
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const from = ((top + y) * image.width + left) * 4;
    data.set(image.data.subarray(from, from + w * 4), y * w * 4);
  }
  return { width: w, height: h, data };
}
