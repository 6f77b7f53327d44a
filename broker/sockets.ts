/**
 * The broker's sockets: a ROUTER for tasks and a PUB for broadcasts, bound
 * on a private `ipc://` folder (or `serve --bind`'s endpoint, with CURVE
 * when `--curve-secret` is given), and their teardown.
 *
 * @module
 */

import { makePrivateDir, removePrivateDir } from "./private_dir.ts";
import * as zmq from "../transport/zmq.ts";
import { broadcastEndpoint, SOCKET_OPTIONS } from "../transport/protocol.ts";
import { type ServerCurve, serverCurve } from "../transport/curve.ts";
import { RunError } from "../core/errors.ts";
import type { Job } from "../core/job.ts";
import type { Log } from "../core/log.ts";
import type { EarlyPool } from "./pool.ts";

/** A run's bound sockets and where they listen. */
export interface BrokerSockets {
  /** The task endpoint (broadcasts on {@link broadcastEndpoint} of it). */
  endpoint: string;
  /** The private folder of the `ipc://` endpoints, removed at the end; null with `--bind`. */
  privateDir: string | null;
  /** CURVE options and public key (none without `--curve-secret`). */
  curve: ServerCurve;
  /** Tasks and results. */
  router: zmq.Router;
  /** Heartbeats and quit. */
  publisher: zmq.Publisher;
}

/** Binds the ROUTER and the PUB socket (a private `ipc://` folder unless `--bind`). */
export async function openSockets(job: Job, log: Log, pool?: EarlyPool): Promise<BrokerSockets> {
  const privateDir = pool?.privateDir ??
    (job.bind ? null : makePrivateDir());
  const endpoint = pool?.endpoint ?? job.bind ?? `ipc://${privateDir}/tasks`;
  const curve = await serverCurve(job.curveSecret).catch((error) => {
    throw new RunError((error as Error).message);
  });
  const router = new zmq.Router({
    ...SOCKET_OPTIONS,
    receiveHighWaterMark: 1000,
    ...curve.options,
  });
  const publisher = new zmq.Publisher({ ...SOCKET_OPTIONS, ...curve.options });
  const sockets = { endpoint, privateDir, curve, router, publisher };
  try {
    await router.bind(endpoint);
    await publisher.bind(broadcastEndpoint(endpoint));
  } catch (error) {
    await closeSockets(sockets);
    throw new RunError(`cannot bind ${endpoint}: ${(error as Error).message}`);
  }
  if (job.bind) {
    log.info(
      `listening for workers on ${endpoint} (broadcasts on ${broadcastEndpoint(endpoint)}${
        curve.publicKey ? "; CURVE-encrypted" : ""
      })`,
    );
  }
  return sockets;
}

/** Closes both sockets and removes the private folder. */
export async function closeSockets(sockets: BrokerSockets): Promise<void> {
  sockets.router.close();
  sockets.publisher.close();
  if (sockets.privateDir) await removePrivateDir(sockets.privateDir);
}
