/**
 * The plain image type every operation works on.
 *
 * Pixels are 8-bit RGBA, row-major, top-left first, with no row padding:
 * `data.length === width * height * 4`. Ops never hold sockets, files or
 * decoders: they take an {@link Image} and return a new one (or the same
 * buffer when they work in place and say so).
 *
 * @module
 */

/** An 8-bit RGBA raster. */
export interface Image {
  /** Width in pixels, at least 1. */
  width: number;
  /** Height in pixels, at least 1. */
  height: number;
  /** RGBA bytes, `width * height * 4` of them. */
  data: Uint8Array;
}

/** Creates a zero-filled (transparent black) image of the given size. */
export function createImage(width: number, height: number): Image {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  return { width, height, data: new Uint8Array(width * height * 4) };
}

/**
 * Throws `RangeError` unless `image` is a valid {@link Image}: integer size
 * of at least 1x1 and exactly `width * height * 4` bytes of data.
 */
export function assertImage(image: Image): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 4) {
    throw new RangeError(
      `image data must be ${width * height * 4} RGBA bytes, got ${data?.length}`,
    );
  }
}
