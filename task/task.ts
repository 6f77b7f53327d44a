/**
 * Doing one task: read, decode, apply the pipeline, encode, write. Shared by
 * sequential mode (in the server's process) and by worker processes, so
 * both produce the same bytes.
 *
 * @module
 */

import { dirname } from "node:path";
import { flattenOnWhite } from "../ops/codec.ts";
import { decodeAny, type DecodedAny, embedIcc, encodeAny, readIcc } from "../ops/format_io.ts";
import { metadataForOutput, readMetadata } from "../ops/metadata.ts";
import { embedMetadata } from "../ops/metadata_write.ts";
import { decodePngResized } from "../ops/png_stream.ts";
import { readJpegIcc } from "../ops/icc.ts";
import { needsConversion, srgbConverter } from "../ops/color.ts";
import { applyPipeline, checkOutputSize, formatStep, type Step } from "../ops/pipeline.ts";
import { decodePngFileResized, PIECES_MIN_BYTES } from "../ops/png_pieces.ts";
import { encodeJpegFast } from "../ops/kernels/mod.ts";
import { transcodeJpegFast } from "../ops/transcode.ts";
import type { Image } from "../ops/image.ts";
import type { Pipeline } from "../core/job.ts";
import type { Outcome, Summary, Timings } from "../core/results.ts";
import { describeNotCapable, describeWriteError, writeAtomic } from "../core/atomic.ts";
import { type Format, formatForName, sameFormat, type WritableFormat } from "../ops/formats.ts";

/** The encoded result of one image. */
export interface Encoded {
  /** Output file bytes. */
  bytes: Uint8Array;
  /** Format written. */
  format: WritableFormat;
  /** Output size in pixels. */
  width: number;
  /** Output size in pixels. */
  height: number;
  /** Non-fatal notes (e.g. a truncated JPEG that decoded partially). */
  warnings: string[];
  /** Stage timings in ms. */
  timings: Timings;
}

/** Encodes an image in the pipeline's format, with its chosen JPEG encoder. */
export async function encodeWith(
  image: Image,
  format: WritableFormat,
  pipeline: Pipeline,
): Promise<Uint8Array> {
  if (format === "jpeg" && pipeline.encoder === "fast") {
    return encodeJpegFast(
      { ...image, data: flattenOnWhite(image.data) },
      pipeline.quality,
    );
  }
  return await encodeAny(image, format, { quality: pipeline.quality });
}

function noTimings(): Timings {
  return { read: 0, decode: 0, ops: 0, steps: {}, encode: 0, write: 0 };
}

/**
 * A large PNG file whose first step is a resize, read in pieces and resized
 * as its rows arrive (`ops/png_pieces.ts`), then encoded; null when that
 * path does not take it (the caller reads it whole). Not with
 * `keepMetadata`, which reads the file's bytes.
 */
async function processLargePng(path: string, pipeline: Pipeline): Promise<Encoded | null> {
  if (pipeline.keepMetadata || pipeline.steps[0]?.op !== "resize") return null;
  const timings = noTimings();
  const started = performance.now();
  let streamed;
  {
    using file = await Deno.open(path);
    streamed = await decodePngFileResized(file, pipeline.steps, pipeline.maxPixels, {
      keepIcc: pipeline.keepIcc,
    });
  }
  if (!streamed) return null;
  timings.decode = performance.now() - started;
  const decoded: DecodedAny = { ...streamed, format: "png", notes: [] };
  return await finish(
    null,
    decoded,
    pipeline.steps.slice(1),
    pipeline,
    timings,
    () => Promise.resolve(),
  );
}

/**
 * Decodes, transforms and encodes one image held in memory. Throws on bad
 * input. `between`, if given, is awaited between stages (a remote worker
 * lets its heartbeat timer run there).
 */
export async function processBytes(
  input: Uint8Array,
  pipeline: Pipeline,
  between: () => Promise<void> = () => Promise.resolve(),
): Promise<Encoded> {
  const timings = noTimings();
  // The common case (JPEG in, JPEG out, fast encoder) stays in wasm memory from decode to encode.
  // (With --keep-icc, a JPEG with a profile takes the general path, which writes the profile.)
  // A non-sRGB profile is converted inside it, after the (shrunk) decode.
  const icc = readJpegIcc(input);
  if (
    pipeline.encoder === "fast" && (pipeline.format === "jpeg" || pipeline.format === "same") &&
    !(pipeline.keepIcc && icc)
  ) {
    const toSrgb = needsConversion(icc) ? await srgbConverter(icc) : null;
    const fused = (!needsConversion(icc) || toSrgb) &&
      transcodeJpegFast(
        input,
        pipeline.steps,
        pipeline.quality,
        pipeline.maxPixels,
        toSrgb ?? undefined,
      );
    if (fused) {
      timings.decode = fused.decode;
      pipeline.steps.forEach((step, i) => {
        const key = formatStep(step);
        timings.steps[key] = (timings.steps[key] ?? 0) + fused.steps[i];
      });
      timings.ops = fused.steps.reduce((sum, ms) => sum + ms, 0);
      timings.encode = fused.encode;
      const { width, height } = fused;
      const warnings: string[] = [];
      const bytes = pipeline.keepMetadata
        ? await withMetadata(input, "jpeg", fused.bytes, "jpeg", null, pipeline, warnings)
        : fused.bytes;
      return { bytes, format: "jpeg", width, height, warnings, timings };
    }
  }
  const started = performance.now();
  // A large PNG whose first step is a resize: resized as its rows arrive (the decode time then
  // includes that step's).
  const streamed = await decodePngResized(
    input,
    pipeline.steps,
    pipeline.maxPixels,
    undefined,
    pipeline.keepIcc,
  );
  const decoded: DecodedAny = streamed
    ? { ...streamed, format: "png", notes: [] }
    : await decodeAny(input, { maxPixels: pipeline.maxPixels, keepIcc: pipeline.keepIcc });
  timings.decode = performance.now() - started;
  const steps = streamed ? pipeline.steps.slice(1) : pipeline.steps;
  return await finish(input, decoded, steps, pipeline, timings, between);
}

/**
 * The rest of a task once its image is decoded: `steps` (the pipeline's, less
 * any applied while decoding), the encode, the metadata. `input` (the file's
 * bytes) may be null only without `keepMetadata`.
 */
async function finish(
  input: Uint8Array | null,
  decoded: DecodedAny,
  steps: readonly Step[],
  pipeline: Pipeline,
  timings: Timings,
  between: () => Promise<void>,
): Promise<Encoded> {
  checkOutputSize(decoded.image.width, decoded.image.height, steps, pipeline.maxPixels);
  await between();
  let started = performance.now();
  const image = applyPipeline(decoded.image, steps, (step, ms) => {
    const key = formatStep(step);
    timings.steps[key] = (timings.steps[key] ?? 0) + ms;
  });
  timings.ops = performance.now() - started;
  const format = pipeline.format === "same" ? sameFormat(decoded.format) : pipeline.format;
  await between();
  started = performance.now();
  let bytes = await encodeWith(image, format, pipeline);
  const warnings = decoded.warnings;
  if (pipeline.keepMetadata && input) {
    bytes = await withMetadata(
      input,
      decoded.format,
      bytes,
      format,
      decoded.icc,
      pipeline,
      warnings,
    );
  } else if (decoded.icc) {
    const kept = await embedIcc(bytes, format, decoded.icc);
    bytes = kept.bytes;
    if (kept.warning) warnings.push(kept.warning);
  }
  timings.encode = performance.now() - started;
  return {
    bytes,
    format,
    width: image.width,
    height: image.height,
    warnings,
    timings,
  };
}

/**
 * `--keep-metadata`: `output` with the input's EXIF (orientation reset to 1
 * where the pixels were turned), XMP and the ICC profile that describes the
 * output's pixels: with `--keep-icc` the input's (`kept`, as decoding
 * returned it), otherwise the input's own only when it is sRGB (a profile
 * whose colours were converted to sRGB no longer describes them: dropped).
 * What cannot be written is added to `warnings`.
 */
async function withMetadata(
  input: Uint8Array,
  inputFormat: Format,
  output: Uint8Array,
  format: WritableFormat,
  kept: Uint8Array | null,
  pipeline: Pipeline,
  warnings: string[],
): Promise<Uint8Array> {
  const icc = await readIcc(input, inputFormat);
  const read = await readMetadata(input, inputFormat, icc);
  const describing = pipeline.keepIcc ? kept : needsConversion(icc) ? null : icc;
  const embedded = await embedMetadata(
    output,
    format,
    metadataForOutput(read, inputFormat, describing),
  );
  warnings.push(...embedded.warnings);
  return embedded.bytes;
}

/** The {@link Summary} of an encoded image. */
export function summarise(encoded: Encoded): Summary {
  const { width, height, warnings, timings } = encoded;
  return { width, height, bytes: encoded.bytes.length, warnings, timings };
}

/** Turns any thrown value into one line a person understands. */
export function describeError(
  error: unknown,
  inputPath: string,
  outputPath: string,
): string {
  if (error instanceof Deno.errors.NotFound) {
    return `input file not found (was it moved or deleted?)`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return describeNotCapable(error);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return error.message.includes(dirname(outputPath))
      ? `cannot write ${outputPath}: permission denied`
      : `cannot read ${inputPath}: permission denied`;
  }
  if (error instanceof Error) {
    const message = error.message.replace(/\s+/g, " ").trim();
    if (/No space left|ENOSPC|os error 28/i.test(message)) {
      return `cannot write ${outputPath}: disk full`;
    }
    if (error.name === "DecodeError") return message;
    return message || error.name;
  }
  return String(error);
}

/**
 * The pipeline for one output file: with format `same`, the output's
 * extension decides (a PNG named `.jpg` is written as a JPEG, as OpenCV's
 * imwrite would), so names never lie; other extensions keep the content's.
 */
export function pipelineFor(pipeline: Pipeline, outputName: string): Pipeline {
  const named = pipeline.format === "same" ? formatForName(outputName) : null;
  return named ? { ...pipeline, format: named } : pipeline;
}

/**
 * A file of `size` bytes (its `stat`), read into one buffer of that size:
 * `Deno.readFileSync` (and `Deno.readFile`) peak at twice a large file's
 * size (a 351 MB PNG: 730 MB). A file that changed size meanwhile is read
 * again the plain way.
 */
export function readWhole(path: string, size: number): Uint8Array {
  using file = Deno.openSync(path);
  const buf = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const n = file.readSync(buf.subarray(at));
    if (n === null || n === 0) break;
    at += n;
  }
  if (at === size && file.readSync(new Uint8Array(1)) === null) return buf;
  return Deno.readFileSync(path);
}

/** An image read and encoded, not yet written (see {@link encodeFile}). */
export interface Prepared {
  /** Always true: the image was read and encoded. */
  ok: true;
  /** The output, its summary fields and timings (`read` filled in, `write` still 0). */
  encoded: Encoded;
}

/**
 * The first half of {@link processFile}: reads `inputPath` and encodes its
 * output (its format follows {@link pipelineFor} with `outputPath`), without
 * writing it. Never throws: a failure comes back as an `Outcome`.
 */
export async function encodeFile(
  inputPath: string,
  outputPath: string,
  pipeline: Pipeline,
): Promise<Prepared | Extract<Outcome, { ok: false }>> {
  try {
    // A FIFO (or device) would block the read for good: refuse anything but a file.
    const stat = Deno.statSync(inputPath);
    if (!stat.isFile) {
      return { ok: false, error: "not a regular file (a FIFO, socket or device): not read" };
    }
    const piped = pipelineFor(pipeline, outputPath);
    let encoded = stat.size >= PIECES_MIN_BYTES ? await processLargePng(inputPath, piped) : null;
    if (!encoded) {
      const started = performance.now(); // (what the large PNG path read is counted again)
      const input = readWhole(inputPath, stat.size);
      const read = performance.now() - started;
      encoded = await processBytes(input, piped);
      encoded.timings.read = read;
    }
    return { ok: true, encoded };
  } catch (error) {
    return { ok: false, error: describeError(error, inputPath, outputPath) };
  }
}

/**
 * Reads `inputPath`, processes it, writes `outputPath` atomically. Never throws.
 * The output's format follows {@link pipelineFor}. `beforeWrite`, if given,
 * is called once the output is encoded, just before it is written (a worker
 * asks for its next task there).
 */
export async function processFile(
  inputPath: string,
  outputPath: string,
  pipeline: Pipeline,
  beforeWrite?: () => void,
): Promise<Outcome> {
  const prepared = await encodeFile(inputPath, outputPath, pipeline);
  if (!prepared.ok) return prepared;
  const { encoded } = prepared;
  beforeWrite?.();
  try {
    const started = performance.now();
    writeAtomic(outputPath, encoded.bytes);
    encoded.timings.write = performance.now() - started;
    return { ok: true, ...summarise(encoded) };
  } catch (error) {
    return { ok: false, error: describeWriteError(error, outputPath) };
  }
}
