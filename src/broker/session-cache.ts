import type { ProfileConfig } from "../config/types.js";
import type { Session } from "../types.js";
import type { Vault } from "../store/secrets.js";
import type { Window } from "../windows/windows.js";
import { buildSessionPolicy, policyHash } from "../policy/build.js";

const SESSION_KIND = "session";

/**
 * STS counts whole seconds (DurationSeconds rounded down, Expiration to the second), so a session
 * minted for "the rest of the window" ends up to two seconds early. It still ends with the window:
 * nothing longer can be minted, so it is neither refreshed nor replaced on a request.
 */
const ENDS_WITH_WINDOW_MS = 2000;
export const endsWithWindow = (s: Session, w: Window): boolean => w.end - s.expiration < ENDS_WITH_WINDOW_MS;

export interface SessionPolicy {
  policy: string;
  hash: string;
}

/** The session policy for a profile and a window's end (the policy carries the end). */
export function policyFor(cfg: ProfileConfig, windowEnd: number): SessionPolicy {
  const policy = buildSessionPolicy({ scope: cfg.scope, region: cfg.region, kmsKeys: cfg.kmsKeys, windowEnd });
  return { policy, hash: policyHash(policy) };
}

/** Minted sessions: in memory for the hot path, in the vault (keychain) to survive a restart. */
export class SessionCache {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly vault: Vault) {}

  /** The session held in memory, whatever it is good for (status). */
  peek(name: string): Session | undefined {
    return this.sessions.get(name);
  }

  names(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * The cached session minted for this window, from memory or else from the vault; `restored` says
   * it came from the vault (a restart), so its refresh is not scheduled yet.
   */
  lookup(name: string, window: Window, now: number, expected: () => SessionPolicy): { session: Session; restored: boolean } | null {
    const s = this.sessions.get(name);
    if (s) return { session: s, restored: false };
    const restored = this.restore(name, window, now, expected);
    return restored ? { session: restored, restored: true } : null;
  }

  /** After a restart: a vault session is reused only if it was minted for this window and config. */
  private restore(name: string, window: Window, now: number, expected: () => SessionPolicy): Session | null {
    const s = this.vault.take<Session>(SESSION_KIND, name, now);
    if (!s) return null;
    if (s.windowEnd !== window.end || s.policyHash !== expected().hash || s.expiration > window.end) {
      void this.vault.remove(SESSION_KIND, name);
      return null;
    }
    this.sessions.set(name, s);
    return s;
  }

  /** Keeps a fresh session; a failed vault write only costs a re-mint after a restart. */
  async store(name: string, session: Session, onVaultError: (err: unknown) => void): Promise<void> {
    this.sessions.set(name, session);
    await this.vault.put(SESSION_KIND, name, session, session.expiration).catch(onVaultError);
  }

  async purge(name: string): Promise<void> {
    this.sessions.delete(name);
    await this.vault.remove(SESSION_KIND, name);
  }
}
