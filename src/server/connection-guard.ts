import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * The endpoint's listen backlog. A neighbour re-opening every connection the guard closes keeps
 * Node's default 511 full, and the kernel then drops the user's SYN: the SDK's connect waits for
 * the retransmit a second later. Room for more than a neighbour can keep pending (the kernel
 * caps it at net.core.somaxconn, 4096 on current Linux) keeps the user's connection in the queue.
 */
export const LISTEN_BACKLOG = 4096;

export interface ConnectionGuardOptions {
  /** How long a connection may stay open without having presented a valid token (up to twice that, spread). */
  untrustedMs?: number;
  /** Connections without a valid token yet, at most; a new one beyond it closes the oldest. */
  maxUntrusted?: number;
  sweepEveryMs?: number;
  /** A connection still refused this long after it opened is read no more. */
  holdingMs?: number;
  now?: () => number;
  /** A connection closed (the serve audit forgets its client port). */
  onClose?: (clientPort: number) => void;
}

export interface ConnectionGuard {
  /** The connection presented a valid token: it is the token holder's, and stays. */
  trust(socket: Socket): void;
  /** A request on the connection was refused before its token was checked. */
  refused(socket: Socket): void;
  /** Connections open without a valid token so far. */
  readonly untrusted: number;
}

/** Connections kept beyond the untrusted ones: room for the token holder's own. */
const TRUSTED_ROOM = 1024;

/**
 * Keeps the endpoint available to the token holder while another local user holds or floods
 * sockets. Node's connection cap was global (1,024) and the header deadline restarts after every
 * answer, so one refused request every few seconds per socket held every slot and the user's SDK
 * got connection resets. On loopback every peer is 127.0.0.1, so the source address names no
 * user; what tells the holder apart is the token. So:
 * - a connection that has not presented a valid token lives at most `untrustedMs`: answers do
 *   not restart it, so refused requests every few seconds no longer hold a socket;
 * - such connections are capped, and a new one beyond the cap closes the oldest: a new
 *   connection always gets in and has its moment to present a token, and the total cap leaves
 *   `TRUSTED_ROOM` connections for those that did;
 * - a connection that presented a token is trusted for its life (the header deadline and the
 *   keep-alive timeout still close it when idle).
 * Closing a refused connection at once would be worse: the neighbour re-opens it, every close
 * becomes a new connection in the kernel's accept queue, and the user's connection waits behind
 * them (measured: p50 about a second while 1,100 sockets churned). Kept until their deadline they
 * cost a file descriptor each. A connection whose first request was refused may still present
 * the token, but one still refused after `holdingMs` is holding, not fetching (an SDK presents its
 * token at once): nothing more is read from it, so its periodic requests cost nothing either
 * (measured: p99 159 ms while read, 74 ms once not). The sweep runs only while untrusted
 * connections are open.
 */
export function guardConnections(server: Server, opts: ConnectionGuardOptions = {}): ConnectionGuard {
  const untrustedMs = opts.untrustedMs ?? 5_000;
  const maxUntrusted = opts.maxUntrusted ?? 2048;
  server.maxConnections = Math.max(server.maxConnections ?? 0, maxUntrusted + TRUSTED_ROOM);
  // Often, so that deadlines falling due close a few sockets at a time, not a burst that comes back at once.
  const sweepEveryMs = opts.sweepEveryMs ?? 100;
  const now = opts.now ?? Date.now;
  /** Untrusted connections and when each must be gone, oldest first (a Map keeps insertion order). */
  const untrusted = new Map<Socket, number>();
  /** When each untrusted connection opened. */
  const opened = new WeakMap<Socket, number>();
  const holdingMs = opts.holdingMs ?? 1_000;
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
      if (t < deadline) continue;
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
    // Spread over [untrustedMs, 2 × untrustedMs): sockets a neighbour opened together would
    // otherwise close together and come back as one burst the user's connection queues behind.
    const t = now();
    opened.set(socket, t);
    untrusted.set(socket, t + untrustedMs * (1 + Math.random()));
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
      if (!untrusted.has(socket) || now() - (opened.get(socket) ?? 0) < holdingMs) return;
      // After the answer (sent in this tick); its deadline or the cap still closes it.
      setImmediate(() => {
        if (!socket.destroyed) socket.pause();
      });
    },
    get untrusted() {
      return untrusted.size;
    },
  };
}
