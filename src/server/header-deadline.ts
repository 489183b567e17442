import type { Server } from "node:http";
import type { Socket } from "node:net";

export interface HeaderDeadline {
  /** A request head arrived on the socket: no deadline while it is being answered. */
  answering(socket: Socket): void;
  /** Its answer was written: the next request head is due within the deadline from now. */
  answered(socket: Socket): void;
  readonly sweeping: boolean;
}

/**
 * Every connection must deliver a complete request head within `ms` of connecting, or of the
 * previous answer on it; otherwise it is closed. Node enforces headersTimeout only every
 * connectionsCheckingInterval, and lowering that to a second wakes an idle daemon every second
 * for nothing. This sweep runs only while connections are open, so an idle daemon sleeps.
 *
 * The request handler reports each request and answer itself (`answering`, `answered`): on the
 * cached path of every credential fetch that is two map writes, where a 'request' listener and a
 * 'finish' listener per response cost an event emit, a listener array and a clock read more.
 */
export function enforceHeaderDeadline(server: Server, ms: number, sweepEveryMs = 1000): HeaderDeadline {
  /** Each open connection's deadline; Infinity while a request is being answered on it. */
  const deadlines = new Map<Socket, number>();
  let timer: NodeJS.Timeout | undefined;
  const sweep = () => {
    const now = Date.now();
    for (const [socket, deadline] of deadlines) {
      if (now >= deadline) {
        deadlines.delete(socket);
        socket.destroy();
      }
    }
  };
  function closed(this: Socket) {
    deadlines.delete(this);
    if (deadlines.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }
  server.on("connection", (socket: Socket) => {
    deadlines.set(socket, Date.now() + ms);
    if (!timer) {
      timer = setInterval(sweep, sweepEveryMs);
      timer.unref();
    }
    socket.once("close", closed);
  });
  return {
    answering(socket) {
      if (deadlines.has(socket)) deadlines.set(socket, Infinity);
    },
    // A closed socket has left the map and stays out.
    answered(socket) {
      if (deadlines.has(socket) && !socket.destroyed) deadlines.set(socket, Date.now() + ms);
    },
    get sweeping() {
      return timer !== undefined;
    },
  };
}
