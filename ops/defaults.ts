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
