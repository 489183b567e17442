import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * Every connection must deliver a complete request head within `ms` of connecting, or of the
 * previous response on it; otherwise it is closed. Node enforces headersTimeout only every
 * connectionsCheckingInterval, and lowering that to a second wakes an idle daemon every second
 * for nothing. This sweep runs only while connections are open, so an idle daemon sleeps.
 *
 * The per-request part is kept to a map write and one shared 'finish' listener (no closure, no
 * clock read until the response is done): it runs on the cached path of every credential fetch.
 */
export function enforceHeaderDeadline(server: Server, ms: number, sweepEveryMs = 1000): { readonly sweeping: boolean } {
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
  // Runs after Node's own 'finish' listener has detached the socket from the response: the
  // socket is reached through the request. A closed socket has left the map and stays out.
  function answered(this: ServerResponse) {
    const socket = (this.req as IncomingMessage).socket;
    if (deadlines.has(socket) && !socket.destroyed) deadlines.set(socket, Date.now() + ms);
  }
  server.on("connection", (socket: Socket) => {
    deadlines.set(socket, Date.now() + ms);
    if (!timer) {
      timer = setInterval(sweep, sweepEveryMs);
      timer.unref();
    }
    socket.once("close", closed);
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (deadlines.has(socket)) deadlines.set(socket, Infinity);
    res.on("finish", answered);
  });
  return {
    get sweeping() {
      return timer !== undefined;
    },
  };
}
