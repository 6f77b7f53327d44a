/**
 * Reading libzmq's socket monitor (`zmq_socket_monitor`, started with
 * {@link Socket.monitor}): the events a worker watches to name a server that
 * keeps refusing its security handshake, and the connections a bound socket
 * has open ({@link Connections}: the server's PUB, to know when every worker
 * that heard its `quit` is gone).
 *
 * @module
 */

import type { Socket } from "./zmq.ts";

/** Socket monitor events (zmq.h), for {@link Socket.monitor}. */
export const EVENT = {
  connected: 0x0001,
  accepted: 0x0020,
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

/**
 * The connections open on a bound socket, counted from its monitor's
 * `accepted` and `disconnected` events (start the monitor before binding).
 * Read it now and then ({@link open}) so that the events never fill the
 * monitor's queue: libzmq drops events past it, and the count would be off.
 */
export class Connections {
  #open = 0;

  /** @param monitor the PAIR socket of {@link Socket.monitor}, for those two events */
  constructor(readonly monitor: Socket) {}

  /**
   * The connections open now, the events waiting read first (synchronously: two callers never
   * share a read); 0 once the monitor is closed. Leaves the descriptor re-armed for a wait.
   */
  open(): number {
    if (this.monitor.closed) return 0;
    for (let frames; (frames = this.monitor.tryReceive()) !== null;) {
      const head = frames[0];
      if (!head || head.length < 6) continue;
      const event = head[0] | head[1] << 8; // a 16-bit event number, little-endian
      if (event === EVENT.accepted) this.#open++;
      else if (event === EVENT.disconnected) this.#open--;
    }
    return this.#open;
  }

  /** Stops counting: closes the monitor's socket (before the monitored one). */
  close(): void {
    this.monitor.close();
  }
}
