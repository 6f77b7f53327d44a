/**
 * The zpix wire protocol, defined once for the server and the workers.
 *
 * Sockets (the load-balancing broker of the ZeroMQ guide, chapter 3):
 * - the server binds a ROUTER (tasks) and a PUB (broadcasts);
 * - each worker connects a DEALER (its routing id is its worker id) and a
 *   SUB subscribed to every topic.
 *
 * A message is one JSON header frame, optionally followed by one binary
 * payload frame (image bytes for remote workers). Every header carries the
 * protocol version `v`; a peer with another version is refused.
 *
 * Exchange: worker → `join`; server → `hello` (the pipeline, once per
 * worker) or `refused`; worker → `ready`; server → `task`; worker →
 * `result` (which also asks for the next task unless `more` is false);
 * both sides send `heartbeat`s; server broadcasts `quit` when the run is
 * over. A worker asks ahead: a local one once a task's output is encoded
 * (then it writes the file), a remote one as it starts on a task's bytes,
 * it sends `ready` with `finishing` (that task), so the round trip (and a
 * remote worker's next image) overlaps the work; its `result` then says
 * `more: false`.
 *
 * A batching worker (`--batch N` > 1) asks for several tasks at once
 * (`ready` with `want`); the server grants some in one `tasks` message, and
 * the worker reports several outcomes in one `results` (which says how many
 * it wants next): a few messages a batch rather than two a task.
 *
 * @module
 */

import type { Pipeline } from "../core/job.ts";
import type { WritableFormat } from "../ops/formats.ts";
import type { Summary } from "../core/results.ts";
import { checkPayloads, SchemaError, serverMessageOf, workerMessageOf } from "./schema.ts";
import { MAX_BATCH } from "../core/job.ts";

/** Version of this protocol; bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** How often both sides send heartbeats, in ms. */
export const HEARTBEAT_MS = 500;

/** Broadcast topics on the PUB socket. */
export type Topic = "quit" | "heartbeat";

/** A worker introduces itself. */
export interface JoinMessage {
  type: "join";
  /** Process id on its host. */
  pid: number;
  /** Host name, for reports. */
  host: string;
  /** True when the worker shares the server's file system (gets paths, not bytes). */
  local: boolean;
  /** Shared secret, if the worker was given one. */
  token: string | null;
  /**
   * `worker --shared-fs`: the absolute folders it reads inputs from and
   * writes outputs to when a `serve --shared-fs` server sends it paths
   * (at most `MAX_SHARED_FOLDERS`, core/job.ts); absent: none.
   */
  sharedFs?: string[];
}

/**
 * What a `serve --shared-fs` server asks a worker that announced folders
 * holding its input and output folders, to prove it sees the same files:
 * a file of the server's in the output folder, and one input.
 */
export interface SharedFsProbe {
  /** Absolute path of a small file holding a random token. */
  token: string;
  /** Absolute path of one input file: the worker hashes its first {@link PROBE_HASH_BYTES}. */
  input: string;
}

/** A worker's answer to a {@link SharedFsProbe}, in its first `ready`. */
export interface SharedFsProof {
  /** The text of the token file. */
  token: string;
  /** SHA-256 of the input's first {@link PROBE_HASH_BYTES}, as 64 hex digits. */
  sha256: string;
}

/** How much of the probe's input a worker hashes, in bytes. */
export const PROBE_HASH_BYTES = 64 * 1024;

/** The server accepts a worker and tells it what to do with every task. */
export interface HelloMessage {
  type: "hello";
  /** The id the server knows this worker by. */
  worker: string;
  /** The operations and output settings. */
  pipeline: Pipeline;
  /** `serve --shared-fs`: prove you see these files (answered in the first `ready`). */
  probe?: SharedFsProbe;
}

/** The server refuses a worker (bad token, other protocol version). */
export interface RefusedMessage {
  type: "refused";
  /** One line for the worker's user. */
  reason: string;
  /**
   * Set when the server does not know this worker (any more): taken for lost,
   * it must `join` again (token and all) before anything it says counts.
   */
  rejoin?: boolean;
}

/** A worker asks for a task. */
export interface ReadyMessage {
  type: "ready";
  /**
   * Set when a worker asks ahead: the task it is still working on (a local
   * worker: writing its output; a remote one: processing its bytes). Its
   * result follows with `more: false`; the next task may arrive first.
   */
  finishing?: number;
  /** Set by a batching worker: how many tasks it asks for, 1..`MAX_BATCH` (core/job.ts). */
  want?: number;
  /** The answer to the `hello`'s probe (`--shared-fs`), in the first `ready` after it. */
  probe?: SharedFsProof;
}

/**
 * One image to process. Local workers (and remote ones that proved they see
 * the server's files, `--shared-fs`) get paths; other remote ones get the
 * bytes as payload.
 */
export interface TaskMessage {
  type: "task";
  /** Task index in the run. */
  task: number;
  /** Attempt number, from 1. */
  attempt: number;
  /** Input path relative to the input folder, for messages. */
  name: string;
  /** Absolute input path (local and shared-fs workers), or null (bytes in the payload). */
  input: string | null;
  /** Absolute output path (local and shared-fs workers), or null (bytes go back in the result). */
  output: string | null;
}

/** A task as a `tasks` message lists it. */
export type TaskEntry = Omit<TaskMessage, "type">;

/** Tasks granted to a batching worker at once, in order; remote: each one's bytes a frame. */
export interface TasksMessage {
  type: "tasks";
  /** 1..`MAX_BATCH` tasks, in the order to do them. */
  tasks: TaskEntry[];
}

/** The outcome of a task. Remote successes carry the encoded bytes as payload. */
export type ResultMessage =
  & {
    type: "result";
    /** Whether the worker wants another task. */
    more: boolean;
    /**
     * The worker process's CPU time so far (user + system, all threads,
     * since it started), in ms, for the report; optional (older workers).
     */
    cpu?: number;
  }
  & ResultEntry;

/** A batching worker's outcomes at once, each task once; remote: each success's bytes a frame. */
export interface ResultsMessage {
  type: "results";
  /** 1..`MAX_BATCH` outcomes, in the order the tasks were done. */
  results: ResultEntry[];
  /** How many more tasks the worker asks for (0: none). */
  want: number;
  /** As in {@link ResultMessage}. */
  cpu?: number;
}

/** One task's outcome, alone (`result`) or among others (`results`). */
export type ResultEntry =
  /** The task's index, and the attempt it answers. */
  & { task: number; attempt: number }
  & (
    | (
      & {
        ok: true; /** Output format, so the server can name remote outputs. */
        format: WritableFormat;
      }
      & Summary
    )
    | { ok: false; error: string }
  );

/** I am alive. */
export interface HeartbeatMessage {
  type: "heartbeat";
}

/** A worker leaves gracefully (after its current task). */
export interface LeaveMessage {
  type: "leave";
}

/** The run is over: workers exit (or, with --persist, wait for the next server). */
export interface QuitMessage {
  type: "quit";
}

/** Messages a worker sends on its DEALER. */
export type WorkerMessage =
  | JoinMessage
  | ReadyMessage
  | ResultMessage
  | ResultsMessage
  | HeartbeatMessage
  | LeaveMessage;

/** Messages the server sends on its ROUTER. */
export type ServerMessage = HelloMessage | RefusedMessage | TaskMessage | TasksMessage;

/** Messages the server publishes on its PUB. */
export type Broadcast = QuitMessage | HeartbeatMessage;

/** Any protocol message. */
export type Message = WorkerMessage | ServerMessage | Broadcast;

const WORKER_TYPES = new Set(["join", "ready", "result", "results", "heartbeat", "leave"]);
const SERVER_TYPES = new Set(["hello", "refused", "task", "tasks"]);
const BROADCAST_TYPES = new Set(["quit", "heartbeat"]);

/** A received `v` as a person reads it: its value and, unless it is a number, its type. */
function describeVersion(v: unknown): string {
  if (v === undefined) return "missing";
  if (typeof v === "number" || v === null) return String(v);
  const kind = Array.isArray(v)
    ? "an array"
    : typeof v === "object"
    ? "an object"
    : `a ${typeof v}`;
  const text = JSON.stringify(v) ?? String(v);
  return `${text.length > 40 ? text.slice(0, 40) + "..." : text} (${kind})`;
}

const BATCH_TYPES = new Set(["tasks", "results"]);

/** Longest header frame (the JSON part of a message), in bytes; the payload frame may be longer. */
export const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * Largest frame a broker copies from a peer that is not a worker (yet): a
 * `join` is a few hundred bytes. See `receiveAll`'s `cap`.
 */
export const MAX_STRANGER_FRAME_BYTES = 64 * 1024;

/**
 * Largest image payload a server sends and a worker accepts (its task
 * socket's ZMQ_MAXMSGSIZE), in bytes: a larger input fails on the server
 * without being sent.
 */
export const MAX_INPUT_BYTES = 1024 ** 3;

/** Largest frame on the broadcast sockets (a topic, a small header), in bytes. */
export const MAX_BROADCAST_BYTES = 4096;

/** A frame that is not a valid message of this protocol version. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a message (and an optional payload, or a batch's payloads) into frames. */
export function encodeMessage(
  message: Message,
  payload?: Uint8Array | Uint8Array[],
): Uint8Array[] {
  const header = encoder.encode(
    JSON.stringify({ v: PROTOCOL_VERSION, ...message }),
  );
  return payload ? [header, ...(Array.isArray(payload) ? payload : [payload])] : [header];
}

/** A decoded message with its payload, if any. */
export interface Decoded<M extends Message> {
  /** The message header. */
  message: M;
  /** The binary frame after the header, if any. */
  payload: Uint8Array | null;
  /** A `tasks` or `results` message's payload frames (none, or one an entry that has bytes). */
  payloads?: Uint8Array[];
}

type FieldsOf = (type: string, fields: Record<string, unknown>) => Record<string, unknown>;

function decodeFrames<M extends Message>(
  frames: Uint8Array[],
  types: Set<string>,
  fieldsOf: FieldsOf = (type) => ({ type }),
): Decoded<M> {
  if (frames.length < 1 || frames.length > 1 + MAX_BATCH) {
    throw new ProtocolError(`expected 1 to ${1 + MAX_BATCH} frames, got ${frames.length}`);
  }
  if (frames[0].length > MAX_HEADER_BYTES) {
    throw new ProtocolError(
      `header frame of ${frames[0].length} bytes (at most ${MAX_HEADER_BYTES})`,
    );
  }
  let header: { v?: unknown; type?: unknown };
  try {
    header = JSON.parse(decoder.decode(frames[0]));
  } catch {
    throw new ProtocolError("header frame is not JSON");
  }
  if (typeof header !== "object" || header === null) {
    throw new ProtocolError("header is not an object");
  }
  if (header.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `protocol version ${describeVersion(header.v)}, expected the number ${PROTOCOL_VERSION}`,
    );
  }
  if (typeof header.type !== "string" || !types.has(header.type)) {
    throw new ProtocolError(
      `unexpected message type ${JSON.stringify(header.type)}`,
    );
  }
  let message;
  try {
    // Checked against its type's schema and rebuilt from its fields alone (transport/schema.ts).
    message = fieldsOf(header.type, header as Record<string, unknown>);
    checkPayloads(message, frames.length - 1);
  } catch (error) {
    if (error instanceof SchemaError) throw new ProtocolError(error.message);
    throw error;
  }
  // Not copied: each received frame is a fresh array of its own (`Socket.tryReceive` copies it
  // out of libzmq once), where zeromq.js's Buffers could share memory.
  const decoded: Decoded<M> = { message: message as unknown as M, payload: frames[1] ?? null };
  if (BATCH_TYPES.has(header.type)) decoded.payloads = frames.slice(1);
  return decoded;
}

/** Decodes frames a worker sent (as the ROUTER sees them, without the identity). */
export function decodeWorkerMessage(
  frames: Uint8Array[],
): Decoded<WorkerMessage> {
  return decodeFrames(frames, WORKER_TYPES, workerMessageOf);
}

/** Decodes frames the server sent to a worker. */
export function decodeServerMessage(
  frames: Uint8Array[],
): Decoded<ServerMessage> {
  return decodeFrames(frames, SERVER_TYPES, serverMessageOf);
}

/** Encodes a broadcast as `[topic, header]`. */
export function encodeBroadcast(message: Broadcast): Uint8Array[] {
  return [encoder.encode(message.type), ...encodeMessage(message)];
}

/** Decodes `[topic, header]` from the SUB socket. */
export function decodeBroadcast(frames: Uint8Array[]): Broadcast {
  return decodeFrames<Broadcast>(frames.slice(1), BROADCAST_TYPES).message;
}

/**
 * The broadcast (PUB) endpoint that goes with a task endpoint: the next TCP
 * port, or the ipc path with `.pub` appended. Workers need only one address.
 */
export function broadcastEndpoint(taskEndpoint: string): string {
  const tcp = /^(tcp:\/\/.+):(\d+)$/.exec(taskEndpoint);
  if (tcp) return `${tcp[1]}:${Number(tcp[2]) + 1}`;
  if (taskEndpoint.startsWith("ipc://")) return `${taskEndpoint}.pub`;
  throw new ProtocolError(
    `unsupported endpoint ${taskEndpoint}: use tcp://HOST:PORT or ipc://PATH`,
  );
}
