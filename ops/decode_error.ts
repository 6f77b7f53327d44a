/**
 * The one error type for input that cannot be decoded, in a file of its own
 * so that the codecs of `codecs/` can throw it without importing `codec.ts`
 * (which re-exports it).
 *
 * @module
 */

/**
 * Thrown for any input that cannot be decoded. `message` is one human
 * sentence ("not a JPEG, PNG, WebP, AVIF, HEIC or GIF file", "truncated or
 * corrupt JPEG data", ...); never a stack trace worth showing a user.
 */
export class DecodeError extends Error {
  /** Always "DecodeError". */
  override name = "DecodeError";
}
