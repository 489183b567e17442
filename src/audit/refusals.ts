import type { Clock, Timer, Timers } from "../clock.js";
import { iso } from "../time.js";
import type { Audit } from "./audit.js";

export interface RefusalPeer {
  address: string;
  port: number;
}

export interface RefusalAudit {
  /** The endpoint refused a request (`profile` null when it named no well-formed one). */
  refused(profile: string | null, code: string, peer: RefusalPeer): void;
  /** Writes the summaries of the interval under way (at stop). */
  flush(): void;
}

export interface RefusalAuditOptions {
  clock: Clock;
  timers: Timers;
  /** One summary per kind of refusal per interval. */
  intervalMs?: number;
  /** Kinds (code, profile, peer address) told apart per interval; the rest share one line. */
  maxKinds?: number;
}

/** Five minutes: a flood costs at most (2 × maxKinds + 1) lines per interval, whatever its rate. */
export const REFUSAL_INTERVAL_MS = 5 * 60_000;
export const MAX_REFUSAL_KINDS = 8;

interface Kind {
  profile: string | null;
  code: string;
  address: string;
  /** Refusals after the first (the first has its own line at once). */
  repeated: number;
  since: number;
  until: number;
}

/**
 * Refusals as bounded summaries. A line per refusal let anyone on the machine rotate the grants,
 * mints and hand-outs out of the log: 40 bad requests a second (below the rate limit) fill 40 MiB
 * in about an hour and a half. Now the first refusal of a kind (code, profile, peer address) in an
 * interval is written at once, as before, so a lone refusal is seen when it happens; the ones
 * after it are counted and written as one summary line when the interval ends. Kinds are capped
 * per interval (a neighbour picks profile names and 127.x addresses freely); beyond the cap they
 * share one line. So refusals write at most 2 × maxKinds + 1 lines per interval at any rate.
 */
export function refusalAudit(audit: Audit, opts: RefusalAuditOptions): RefusalAudit {
  const intervalMs = opts.intervalMs ?? REFUSAL_INTERVAL_MS;
  const maxKinds = opts.maxKinds ?? MAX_REFUSAL_KINDS;
  const kinds = new Map<string, Kind>();
  let others: { count: number; codes: Set<string>; since: number; until: number } | null = null;
  let timer: Timer | null = null;

  const flush = () => {
    timer?.cancel();
    timer = null;
    for (const k of kinds.values()) {
      if (k.repeated === 0) continue;
      audit.record("refuse", { profile: k.profile, code: k.code, peer: { address: k.address }, repeated: k.repeated, since: iso(k.since), until: iso(k.until) });
    }
    if (others) audit.record("refuse", { code: "Various", codes: [...others.codes], count: others.count, since: iso(others.since), until: iso(others.until), note: `more than ${maxKinds} kinds of refusal in one interval` });
    kinds.clear();
    others = null;
  };

  return {
    refused(profile, code, peer) {
      const now = opts.clock.now();
      timer ??= opts.timers.after(intervalMs, flush);
      const key = `${code}\0${profile ?? ""}\0${peer.address}`;
      const kind = kinds.get(key);
      if (kind) {
        kind.repeated++;
        kind.until = now;
        return;
      }
      if (kinds.size < maxKinds) {
        kinds.set(key, { profile, code, address: peer.address, repeated: 0, since: now, until: now });
        audit.record("refuse", { profile, code, peer });
        return;
      }
      others ??= { count: 0, codes: new Set(), since: now, until: now };
      others.count++;
      others.until = now;
      if (others.codes.size < maxKinds) others.codes.add(code);
    },
    flush,
  };
}
