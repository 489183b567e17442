import type { Server } from "node:http";
import type { Socket } from "node:net";

export interface ConnectionGuardOptions {
  /** How long a connection may stay open without having presented a valid token. */
  untrustedMs?: number;
  /** Connections without a valid token yet, at most; a new one beyond it closes the oldest. */
  maxUntrusted?: number;
  sweepEveryMs?: number;
  now?: () => number;
  /** A connection closed (the serve audit forgets its client port). */
  onClose?: (clientPort: number) => void;
}

export interface ConnectionGuard {
  /** The connection presented a valid token: it is the token holder's, and stays. */
  trust(socket: Socket): void;
  /** A request on the connection was refused: one that never presented a token is closed after the answer. */
  refused(socket: Socket): void;
  /** Connections open without a valid token so far. */
  readonly untrusted: number;
}

/**
 * Keeps the endpoint available to the token holder while another local user holds or floods
 * sockets. Node's connection cap is global and its header deadline restarts after every answer,
 * so one refused request every few seconds per socket held 1,024 sockets and the user's SDK got
 * connection resets. On loopback every peer is 127.0.0.1, so the source address names no user;
 * what tells the holder apart is the token. So: a connection that has not presented a valid token
 * lives at most `untrustedMs`, is closed after its first refused answer, and such connections
 * are capped — a new one closes the oldest, so a new connection always gets in and has its
 * moment to present a token. A connection that presented one is trusted for its life (the
 * header deadline and keep-alive timeout still close it when idle). The sweep runs only while
 * untrusted connections are open, so an idle daemon sleeps.
 */
export function guardConnections(server: Server, opts: ConnectionGuardOptions = {}): ConnectionGuard {
  const untrustedMs = opts.untrustedMs ?? 2_000;
  const maxUntrusted = opts.maxUntrusted ?? 128;
  const sweepEveryMs = opts.sweepEveryMs ?? 500;
  const now = opts.now ?? Date.now;
  /** Untrusted connections and when each must be gone, oldest first (a Map keeps insertion order). */
  const untrusted = new Map<Socket, number>();
  let timer: NodeJS.Timeout | undefined;

  const forget = (socket: Socket) => {
    untrusted.delete(socket);
    if (untrusted.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const sweep = () => {
    const t = now();
    for (const [socket, deadline] of untrusted) {
      if (t < deadline) break; // oldest first: the rest are younger
      forget(socket);
      socket.destroy();
    }
  };

  server.on("connection", (socket: Socket) => {
    const port = socket.remotePort ?? 0;
    socket.once("close", () => {
      forget(socket);
      opts.onClose?.(port);
    });
    if (untrusted.size >= maxUntrusted) {
      const [oldest] = untrusted.keys();
      if (oldest) {
        forget(oldest);
        oldest.destroy();
      }
    }
    untrusted.set(socket, now() + untrustedMs);
    if (!timer) {
      timer = setInterval(sweep, sweepEveryMs);
      timer.unref();
    }
  });

  return {
    trust(socket) {
      if (untrusted.has(socket)) forget(socket);
    },
    refused(socket) {
      if (!untrusted.has(socket)) return;
      // The answer is queued on the socket by now (the refusal is sent in the same tick): end after
      // it. The connection stays counted until it is gone; the deadline still destroys it.
      setImmediate(() => socket.end());
    },
    get untrusted() {
      return untrusted.size;
    },
  };
}
