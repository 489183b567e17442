import { iso } from "../time.js";
import type { PeerProcess } from "../platform/peer.js";
import type { Audit } from "./audit.js";

/** Finds the local process at the client end of a loopback connection (platform/peer.ts). */
export type PeerLookup = (clientPort: number) => Promise<PeerProcess | null>;

export interface ServeAudit {
  /** A session was handed out over the endpoint to the connection from `clientPort`. */
  served(profile: string, accessKeyId: string, expiration: number, clientPort: number): void;
  /** The connection from `clientPort` closed: the next one from that port may be another process's. */
  closed(clientPort: number): void;
  /** Waits for the lookups under way, so every serve line is written before the stop line. */
  settle(): Promise<void>;
}

/** Connections and processes remembered at most; past it the memory starts afresh (a line too many, never too few). */
const MAX_REMEMBERED = 4096;
/** Process lookups a second; beyond that the line names the port only. */
const LOOKUPS_PER_SECOND = 2;

/**
 * The endpoint's serve lines: one per session and process (pid and exe where the platform tells
 * them). A kept-alive connection re-fetching a session is skipped before any lookup — the same
 * socket is the same process, and a lookup per request would cost the hot path. A new connection
 * is looked up, since a port is reused by whichever process the kernel gives it to next: keyed by
 * port alone, a second process got credentials with no line of its own. Finding the process
 * walks /proc (every process's open files), so it runs after the answer, one at a time and at
 * most twice a second; beyond that the line names the port only (a line too many, never too few).
 */
export function serveAudit(audit: Audit, findPeer: PeerLookup, now: () => number = Date.now): ServeAudit {
  /** Per open connection (by client port): the session it was last handed. */
  const servedOn = new Map<number, string>();
  /** Per process (pid and exe): the sessions it has had, so its new connections add no line. */
  const servedTo = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let lookups = { second: 0, count: 0 };
  const remember = <T>(memory: { size: number; clear(): void }, add: () => T): T => {
    if (memory.size >= MAX_REMEMBERED) memory.clear();
    return add();
  };
  return {
    served(profile, accessKeyId, expiration, clientPort) {
      if (servedOn.get(clientPort) === accessKeyId) return;
      remember(servedOn, () => servedOn.set(clientPort, accessKeyId));
      const fields = { profile, accessKeyId, expiration: iso(expiration) };
      const second = Math.floor(now() / 1000);
      if (second !== lookups.second) lookups = { second, count: 0 };
      if (inFlight.size > 0 || ++lookups.count > LOOKUPS_PER_SECOND) return audit.record("serve", { ...fields, peer: { port: clientPort } });
      const pending = findPeer(clientPort).then((p) => {
        if (p) {
          const key = `${p.pid}\0${p.exe ?? ""}\0${accessKeyId}`;
          if (servedTo.has(key)) return;
          remember(servedTo, () => servedTo.add(key));
        }
        audit.record("serve", { ...fields, peer: { port: clientPort, ...p } });
      });
      inFlight.add(pending);
      void pending.finally(() => inFlight.delete(pending));
    },
    closed(clientPort) {
      servedOn.delete(clientPort);
    },
    async settle() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
