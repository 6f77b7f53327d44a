/**
 * A remote worker's security handshake with its server: how long a failing
 * one is retried, and how its failure is told to the user.
 *
 * @module
 */

import {
  EVENT,
  type MonitorEvent,
  PROTOCOL_ERROR_MECHANISM_MISMATCH,
} from "../transport/monitor.ts";

/**
 * How long a remote worker lets ZeroMQ retry a security handshake that the
 * server keeps refusing before it exits with code 2, in ms: a wrong
 * `--curve-server-key`, or CURVE on one side only, never gets better.
 */
export const HANDSHAKE_GRACE_MS = 3000;

/** Says why the handshake with `endpoint` failed, from the socket monitor's event. */
export function describeHandshakeFailure(
  failure: MonitorEvent,
  endpoint: string,
  curve: boolean,
): string {
  const mismatch = failure.event === EVENT.handshakeFailedProtocol &&
    failure.value === PROTOCOL_ERROR_MECHANISM_MISMATCH;
  if (mismatch) {
    return curve
      ? `the server at ${endpoint} does not use CURVE: leave out --curve-server-key, ` +
        "or start the server with --curve-secret"
      : `the server at ${endpoint} requires CURVE: pass its public key with --curve-server-key`;
  }
  if (curve) {
    return `the server at ${endpoint} refused the CURVE handshake: ` +
      "is --curve-server-key the server's public key?";
  }
  return `the security handshake with ${endpoint} keeps failing (event 0x${
    failure.event.toString(16)
  }, value 0x${failure.value.toString(16)}): is it a zpix server?`;
}
