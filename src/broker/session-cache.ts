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
/** Never hand out a session with less life than this; mint a new one instead. */
const MIN_SERVE_MS = 60_000;

export interface SessionPolicy {
  policy: string;
  hash: string;
}

/** The session policy for a profile and a window's end (the policy carries the end). */
export function policyFor(cfg: ProfileConfig, windowEnd: number): SessionPolicy {
  const policy = buildSessionPolicy({ scope: cfg.scope, region: cfg.region, kmsKeys: cfg.kmsKeys, windowEnd });
  return { policy, hash: policyHash(policy) };
}

/**
 * Minted sessions: in memory for the hot path, in the vault (keychain) to survive a restart. A
 * session is served only for the policy it was minted under, and a mint stores only while the
 * state it started under is current (DESIGN.md §2 rule 6): every state change bumps a generation.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Session>();
  /** Per profile: bumped by every purge (revoke, logout, reload, a window's end). */
  private readonly generations = new Map<string, number>();
  /** Per SSO instance: bumped when its login goes (logout). */
  private readonly ssoGenerations = new Map<string, number>();
  /** A reload brings new ProfileConfig objects: each gets a new id. */
  private readonly configIds = new WeakMap<ProfileConfig, number>();
  private nextConfigId = 0;
  /** The policy of the profile's current window, so the hot path compares a hash it need not build. */
  private readonly policies = new WeakMap<ProfileConfig, { windowEnd: number; policy: SessionPolicy }>();

  constructor(private readonly vault: Vault) {}

  /** The session policy for this config and window end (built once per config and end). */
  policy(cfg: ProfileConfig, windowEnd: number): SessionPolicy {
    const memo = this.policies.get(cfg);
    if (memo?.windowEnd === windowEnd) return memo.policy;
    const policy = policyFor(cfg, windowEnd);
    this.policies.set(cfg, { windowEnd, policy });
    return policy;
  }

  /**
   * Everything a mint depends on, as one string: the profile's and its SSO instance's generation,
   * the config object and the window's end (null: closed). A mint whose ticket is no longer what
   * this returns stores nothing and serves nothing.
   */
  ticket(name: string, cfg: ProfileConfig, window: Window | null): string {
    let id = this.configIds.get(cfg);
    if (id === undefined) this.configIds.set(cfg, (id = this.nextConfigId++));
    return `${this.generations.get(name) ?? 0}:${this.ssoGenerations.get(cfg.sso) ?? 0}:${id}:${window?.end ?? "closed"}`;
  }

  /** The SSO instance's login is gone: whatever its profiles have in flight is void. */
  bumpSso(sso: string): void {
    this.ssoGenerations.set(sso, (this.ssoGenerations.get(sso) ?? 0) + 1);
  }

  /** The session held in memory, whatever it is good for. */
  peek(name: string): Session | undefined {
    return this.sessions.get(name);
  }

  /** The session in memory if it is still alive and of this policy (what status shows). */
  held(name: string, policyHash: string, now: number): Session | null {
    const s = this.sessions.get(name);
    return s && s.policyHash === policyHash && s.expiration > now ? s : null;
  }

  names(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * The cached session good to serve now: minted for exactly this window (its policy carries the
   * window's end) and this policy, from memory or else from the vault. `restored` says it came
   * from the vault (a restart), so its refresh is not scheduled yet.
   */
  usable(name: string, window: Window, now: number, policyHash: string): { session: Session; restored: boolean } | null {
    const inMemory = this.sessions.get(name);
    const s = inMemory ?? this.restore(name, window, now, policyHash);
    // A reload may have narrowed the scope since this session was minted: its policy is not today's.
    if (!s || s.policyHash !== policyHash || s.windowEnd !== window.end || s.expiration <= now) return null;
    // A session about to end is replaced, unless it ends with the window: nothing better exists.
    if (s.expiration - now < MIN_SERVE_MS && !endsWithWindow(s, window)) return null;
    return { session: s, restored: !inMemory };
  }

  /** After a restart: a vault session is reused only if it was minted for this window and config. */
  private restore(name: string, window: Window, now: number, policyHash: string): Session | null {
    const s = this.vault.take<Session>(SESSION_KIND, name, now);
    if (!s) return null;
    if (s.windowEnd !== window.end || s.policyHash !== policyHash || s.expiration > window.end) {
      void this.vault.remove(SESSION_KIND, name);
      return null;
    }
    this.sessions.set(name, s);
    return s;
  }

  /**
   * Keeps a fresh session if `current()` still holds, before and after the vault write (a purge
   * may come while the keychain writes: it wins). Returns whether the session was kept. A failed
   * vault write only costs a re-mint after a restart.
   */
  async store(name: string, session: Session, current: () => boolean, onVaultError: (err: unknown) => void): Promise<boolean> {
    if (!current()) return false;
    this.sessions.set(name, session);
    await this.vault.put(SESSION_KIND, name, session, session.expiration).catch(onVaultError);
    if (current()) return true;
    if (this.sessions.get(name) === session) this.sessions.delete(name);
    if (this.vault.take<Session>(SESSION_KIND, name, 0)?.accessKeyId === session.accessKeyId) await this.vault.remove(SESSION_KIND, name).catch(onVaultError);
    return false;
  }

  /** A state change: the profile's sessions go, and what is in flight for it will store nothing. */
  async purge(name: string): Promise<void> {
    this.generations.set(name, (this.generations.get(name) ?? 0) + 1);
    this.sessions.delete(name);
    await this.vault.remove(SESSION_KIND, name);
  }
}
