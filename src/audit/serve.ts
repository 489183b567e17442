import { iso } from "../time.js";
import type { PeerProcess } from "../platform/peer.js";
import type { Audit } from "./audit.js";

/** Finds the local process at the client end of a loopback connection (platform/peer.ts). */
export type PeerLookup = (clientPort: number) => Promise<PeerProcess | null>;

export interface ServeAudit {
  /** A session was handed out over the endpoint to the connection from `clientPort`. */
  served(profile: string, accessKeyId: string, expiration: number, clientPort: number): void;
  /** Waits for the lookups under way, so every serve line is written before the stop line. */
  settle(): Promise<void>;
}

/** Connections remembered at most; past it the memory starts afresh (a line too many, never too few). */
const MAX_CONNECTIONS = 4096;
/** Process lookups a second; beyond that the line names the port only. */
const LOOKUPS_PER_SECOND = 2;

/**
 * The endpoint's serve lines. One per session and connection: an SDK re-fetching over a kept-alive
 * connection is the same hand-out to the same process, and a line per request would cost the hot
 * path. Finding the requesting process walks /proc (every process's open files), so it runs after
 * the answer, one at a time and at most twice a second; beyond that the line has no process.
 */
export function serveAudit(audit: Audit, findPeer: PeerLookup, now: () => number = Date.now): ServeAudit {
  const servedOn = new Map<number, string>();
  const inFlight = new Set<Promise<void>>();
  let lookups = { second: 0, count: 0 };
  return {
    served(profile, accessKeyId, expiration, clientPort) {
      if (servedOn.get(clientPort) === accessKeyId) return;
      if (servedOn.size >= MAX_CONNECTIONS) servedOn.clear();
      servedOn.set(clientPort, accessKeyId);
      const fields = { profile, accessKeyId, expiration: iso(expiration) };
      const second = Math.floor(now() / 1000);
      if (second !== lookups.second) lookups = { second, count: 0 };
      if (inFlight.size > 0 || ++lookups.count > LOOKUPS_PER_SECOND) return audit.record("serve", { ...fields, peer: { port: clientPort } });
      const pending = findPeer(clientPort).then((p) => audit.record("serve", { ...fields, peer: { port: clientPort, ...p } }));
      inFlight.add(pending);
      void pending.finally(() => inFlight.delete(pending));
    },
    async settle() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
