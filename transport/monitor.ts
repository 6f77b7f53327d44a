/**
 * Reading libzmq's socket monitor (`zmq_socket_monitor`, started with
 * {@link Socket.monitor}): the events a worker watches to name a server that
 * keeps refusing its security handshake.
 *
 * @module
 */

import type { Socket } from "./zmq.ts";

/** Socket monitor events (zmq.h), for {@link Socket.monitor}. */
export const EVENT = {
  connected: 0x0001,
  disconnected: 0x0200,
  handshakeFailedNoDetail: 0x0800,
  handshakeSucceeded: 0x1000,
  handshakeFailedProtocol: 0x2000,
  handshakeFailedAuth: 0x4000,
} as const;

/** `value` of a `handshakeFailedProtocol` event when the peers' security mechanisms differ. */
export const PROTOCOL_ERROR_MECHANISM_MISMATCH = 0x11000002;

/** One socket monitor event: its {@link EVENT} number, value and endpoint. */
export interface MonitorEvent {
  /** The event, one of {@link EVENT}. */
  event: number;
  /** Its value: an errno, a protocol error code, a descriptor, depending on the event. */
  value: number;
  /** The endpoint it concerns. */
  endpoint: string;
}

/** The events waiting on a monitor's PAIR socket (see {@link Socket.monitor}), without waiting. */
export async function readEvents(monitor: Socket): Promise<MonitorEvent[]> {
  const events: MonitorEvent[] = [];
  while (monitor.readable) {
    const [head, endpoint] = await monitor.receive();
    if (!head || head.length < 6) continue;
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    events.push({
      event: view.getUint16(0, true),
      value: view.getUint32(2, true),
      endpoint: new TextDecoder().decode(endpoint ?? new Uint8Array()),
    });
  }
  return events;
}
