import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Every connection must deliver a complete request head within `ms` of connecting, or of the
 * previous response on it; otherwise it is closed. Node enforces headersTimeout only every
 * connectionsCheckingInterval, and lowering that to a second wakes an idle daemon every second
 * for nothing. This sweep runs only while connections are open, so an idle daemon sleeps.
 */
export function enforceHeaderDeadline(server: Server, ms: number, sweepEveryMs = 1000): { readonly sweeping: boolean } {
  const deadlines = new Map<Socket, number>();
  let open = 0;
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
  server.on("connection", (socket: Socket) => {
    open++;
    deadlines.set(socket, Date.now() + ms);
    if (!timer) {
      timer = setInterval(sweep, sweepEveryMs);
      timer.unref();
    }
    socket.once("close", () => {
      deadlines.delete(socket);
      if (--open === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    });
  });
  server.on("request", (req: { socket: Socket }, res: { once(ev: "finish", fn: () => void): void }) => {
    const socket = req.socket;
    deadlines.delete(socket);
    res.once("finish", () => {
      if (!socket.destroyed) deadlines.set(socket, Date.now() + ms);
    });
  });
  return {
    get sweeping() {
      return timer !== undefined;
    },
  };
}
