/**
 * CURVE encryption for `serve` and remote workers (ZeroMQ's CurveZMQ:
 * every byte between server and workers encrypted, and workers sure they
 * talk to the server whose public key they were given).
 *
 * `zpix keygen DIR` writes the server's key pair (`server.key`, secret,
 * mode 0600) and its public key (`server.pub`), in the text format of
 * CZMQ certificates. The server loads `server.key` (`--curve-secret`);
 * workers are given `server.pub` or the key itself (`--curve-server-key`)
 * and make a throw-away key pair of their own. Which workers may join is
 * still decided by `--token`, which CURVE keeps secret on the wire.
 *
 * @module
 */

import * as zmq from "./zmq.ts";
import { join } from "node:path";

/** A Z85-encoded CURVE key: 40 characters. */
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** A key file that cannot be used. */
export class KeyError extends Error {
  override name = "KeyError";
}

/** The server's side of CURVE: socket options for its ROUTER and PUB, and its public key. */
export interface ServerCurve {
  /** Options to spread into the ROUTER's and PUB's ({} without CURVE). */
  options: { curveServer?: boolean; curveSecretKey?: string };
  /** The public key its own workers are given, or null without CURVE. */
  publicKey: string | null;
}

/** Loads the server's key-pair file (`--curve-secret`); no file, no CURVE. */
export async function serverCurve(secretFile: string | null): Promise<ServerCurve> {
  if (secretFile === null) return { options: {}, publicKey: null };
  requireCurve();
  const text = await readKeyFile(secretFile, "--curve-secret");
  const secret = field(text, "secret-key");
  const publicKey = field(text, "public-key");
  if (!secret || !publicKey) {
    throw new KeyError(
      `--curve-secret ${secretFile} holds no key pair (use the server.key that zpix keygen wrote)`,
    );
  }
  return { options: { curveServer: true, curveSecretKey: secret }, publicKey };
}

/**
 * Resolves a worker's `--curve-server-key`: the key itself (40 Z85
 * characters) or a file holding it.
 */
export async function loadServerKey(keyOrFile: string): Promise<string> {
  if (Z85_KEY.test(keyOrFile)) return keyOrFile;
  const key = field(await readKeyFile(keyOrFile, "--curve-server-key"), "public-key");
  if (!key) throw new KeyError(`--curve-server-key ${keyOrFile} holds no public-key`);
  return key;
}

/** Socket options for a worker's DEALER and SUB: the server's key and a throw-away pair. */
export function workerCurveOptions(
  serverKey: string | null,
): { curveServerKey?: string; curvePublicKey?: string; curveSecretKey?: string } {
  if (serverKey === null) return {};
  requireCurve();
  const pair = zmq.curveKeyPair();
  return {
    curveServerKey: serverKey,
    curvePublicKey: pair.publicKey,
    curveSecretKey: pair.secretKey,
  };
}

/** `zpix keygen DIR`: writes DIR/server.key (mode 0600) and DIR/server.pub; never overwrites. */
export async function keygen(dir: string): Promise<{ secret: string; public: string }> {
  requireCurve();
  const pair = zmq.curveKeyPair();
  await Deno.mkdir(dir, { recursive: true });
  const secret = join(dir, "server.key");
  const pub = join(dir, "server.pub");
  const publicLine = `    public-key = "${pair.publicKey}"\n`;
  await Deno.writeTextFile(
    secret,
    `#   zpix server key pair: SECRET, keep it on the server (zpix serve --curve-secret)\ncurve\n${publicLine}    secret-key = "${pair.secretKey}"\n`,
    { createNew: true, mode: 0o600 },
  ).catch((error) => {
    throw error instanceof Deno.errors.AlreadyExists
      ? new KeyError(`${secret} exists: zpix keygen never overwrites a key`)
      : error;
  });
  await Deno.writeTextFile(
    pub,
    `#   zpix server public key: give it to workers (zpix worker --curve-server-key)\ncurve\n${publicLine}`,
    { createNew: true },
  );
  return { secret, public: pub };
}

function requireCurve(): void {
  if (!zmq.hasCurve()) {
    throw new KeyError('this ZeroMQ build has no CURVE support (zmq_has("curve") is false)');
  }
}

async function readKeyFile(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new KeyError(`${flag} ${path}: cannot read it (${(error as Error).message})`);
  }
}

function field(text: string, name: "public-key" | "secret-key"): string | null {
  const match = new RegExp(`^\\s*${name}\\s*=\\s*"(.{40})"\\s*$`, "m").exec(text);
  return match && Z85_KEY.test(match[1]) ? match[1] : null;
}
