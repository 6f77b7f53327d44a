/**
 * Defaults shared by the codecs and the command line, in a module of their
 * own so that parsing a command line loads no codec.
 *
 * @module
 */

/**
 * Default JPEG quality: 75, as Pillow, cjpeg and jsquash/MozJPEG default to
 * (OpenCV's imwrite uses 95). MozJPEG at 75 with its default trellis and
 * ImageMagick quant tables is visually good at much smaller sizes.
 */
export const DEFAULT_JPEG_QUALITY = 75;

/** Default pixel limit for decoding: 100 megapixels (~400 MB of RGBA). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * "`n` UNIT, over the limit of `limit` UNIT": in megapixels to one decimal
 * when that tells them apart, else in exact pixels (a small limit, or two
 * counts that round alike).
 */
export function overPixelLimit(n: number, limit: number): string {
  const mp = (x: number) => Math.round(x / 1e5) / 10;
  if (mp(limit) > 0 && mp(n) !== mp(limit)) {
    return `${mp(n)} megapixels, over the limit of ${mp(limit)} megapixels`;
  }
  const px = (x: number) => x.toLocaleString("en-US");
  return `${px(n)} pixels, over the limit of ${px(limit)} pixels`;
}
