import type { Clock } from "../clock.js";
import type { Config, ProfileConfig } from "../config/types.js";
import {
  LoginRequiredError,
  MintPendingError,
  S3jitError,
  UnknownProfileError,
  UpstreamError,
  WindowClosedError,
} from "../errors.js";
import type { Audit } from "../audit/audit.js";
import type { Session } from "../types.js";
import type { Vault } from "../store/secrets.js";
import type { Minter } from "../sts/mint.js";
import type { SsoLogins } from "../sso/logins.js";
import { buildSessionPolicy, policyHash } from "../policy/build.js";

import type { GrantRequest, Window } from "../windows/windows.js";

export type { GrantRequest, Window };

/** The window rules (src/windows/), as the broker uses them. */
export interface Windows {
  get(profile: string, now: number): Window | null;
  grant(profile: string, req: GrantRequest, cfg: ProfileConfig, now: number): Window;
  revoke(profile: string, now: number): unknown;
  onDemand(profile: string, cfg: ProfileConfig, now: number): Window;
}

/** Where minted sessions survive a restart (the keychain). */
export type SessionVault = Vault;

export interface Refusal {
  code: string;
  at: number;
}

export type BrokerEvent =
  | { type: "window-opened"; profile: string; end: number }
  | { type: "window-closing"; profile: string; end: number }
  | { type: "window-closed"; profile: string }
  | { type: "minted"; profile: string; expiration: number }
  | { type: "refused"; profile: string; code: string }
  | { type: "login-required"; sso: string };

export interface BrokerDeps {
  config: () => Config;
  clock: Clock;
  windows: Windows;
  logins: SsoLogins;
  minter: Minter;
  vault: SessionVault;
  audit: Audit;
  /** Called after any window change so the daemon can persist the window state. */
  windowsChanged?: () => void;
  /** The longest a credentials request waits on AWS before it gets 503 + Retry-After. */
  requestWaitMs?: number;
}

const SESSION_KIND = "session";
/** Refresh this long before a session ends: ahead of botocore's 15-min and the JS SDK's 5-min marks. */
export const REFRESH_AHEAD_MS = 20 * 60_000;
/** Never hand out a session with less life than this; mint a new one instead. */
const MIN_SERVE_MS = 60_000;
/** `window-closing` is announced this long before a window's end. */
export const CLOSING_SOON_MS = 5 * 60_000;
/** Back off this long after a failed background mint before trying again. */
const RETRY_MS = 30_000;
/**
 * STS counts whole seconds (DurationSeconds rounded down, Expiration to the second), so a session
 * minted for "the rest of the window" ends up to two seconds early. It still ends with the window:
 * nothing longer can be minted, so it is neither refreshed nor replaced on a request.
 */
const ENDS_WITH_WINDOW_MS = 2000;
const endsWithWindow = (s: Session, w: Window) => w.end - s.expiration < ENDS_WITH_WINDOW_MS;

interface Flight {
  promise: Promise<Session>;
}

/**
 * The one place that decides whether and what to hand out. Every path to a credential goes
 * through `credentials()`, whose checks are the rules of DESIGN.md §2 "never beyond the window".
 */
export class Broker {
  private readonly sessions = new Map<string, Session>();
  private readonly flights = new Map<string, Flight>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly closingTimers = new Map<string, NodeJS.Timeout>();
  private readonly endAnnounced = new Map<string, number>();
  private readonly refusals = new Map<string, Refusal>();
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly waitMs: number;

  constructor(private readonly deps: BrokerDeps) {
    this.waitMs = deps.requestWaitMs ?? 800;
  }

  on(listener: (e: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: BrokerEvent): void {
    for (const l of this.listeners) l(e);
  }

  private profile(name: string): ProfileConfig {
    const profiles = this.deps.config().profiles;
    const p = profiles[name];
    if (!p) throw new UnknownProfileError(name, Object.keys(profiles));
    return p;
  }

  /** The hot path: served from memory when a good session exists. */
  async credentials(name: string): Promise<Session> {
    try {
      return await this.credentialsOrThrow(name);
    } catch (err) {
      if (err instanceof S3jitError && !(err instanceof MintPendingError)) this.refused(name, err.code);
      throw err;
    }
  }

  private async credentialsOrThrow(name: string): Promise<Session> {
    const cfg = this.profile(name);
    const now = this.deps.clock.now();
    let window = this.deps.windows.get(name, now);
    if (!window) {
      // The window-end timer may not have fired (a laptop that slept): purge on the refusal path too.
      const s = this.sessions.get(name);
      if (s) this.windowEnded(name, s.windowEnd);
      if (cfg.grant !== "on-demand") throw new WindowClosedError(name);
      window = this.deps.windows.onDemand(name, cfg, now);
      this.windowOpened(window);
    }
    const cached = this.usable(name, window, now);
    if (cached) return cached;
    return this.awaitBriefly(name, this.mintOnce(name));
  }

  /** A cached session for exactly this window (its policy carries the window's end). */
  private usable(name: string, window: Window, now: number): Session | null {
    let s = this.sessions.get(name);
    if (!s) {
      s = this.restore(name, window, now) ?? undefined;
      if (!s) return null;
    }
    if (s.windowEnd !== window.end || s.expiration <= now) return null;
    // A session about to end is replaced, unless it ends with the window: nothing better exists.
    if (s.expiration - now < MIN_SERVE_MS && !endsWithWindow(s, window)) return null;
    return s;
  }

  /** After a restart: a keychain session is reused only if it was minted for this window and config. */
  private restore(name: string, window: Window, now: number): Session | null {
    const s = this.deps.vault.take<Session>(SESSION_KIND, name, now);
    if (!s) return null;
    if (s.windowEnd !== window.end || s.policyHash !== this.policyFor(this.profile(name), window.end).hash || s.expiration > window.end) {
      void this.deps.vault.remove(SESSION_KIND, name);
      return null;
    }
    this.sessions.set(name, s);
    this.schedule(name, s, window);
    return s;
  }

  private policyFor(cfg: ProfileConfig, windowEnd: number): { policy: string; hash: string } {
    const policy = buildSessionPolicy({ scope: cfg.scope, region: cfg.region, kmsKeys: cfg.kmsKeys, windowEnd });
    return { policy, hash: policyHash(policy) };
  }

  private async awaitBriefly(name: string, p: Promise<Session>): Promise<Session> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MintPendingError(name)), this.waitMs);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Single flight: however many requests arrive, one mint per profile is under way. */
  private mintOnce(name: string): Promise<Session> {
    const existing = this.flights.get(name);
    if (existing) return existing.promise;
    const promise = this.mint(name).finally(() => this.flights.delete(name));
    // The mint goes on after a request gave up waiting; its failure is reported via refusals.
    promise.catch(() => {});
    this.flights.set(name, { promise });
    return promise;
  }

  private async mint(name: string): Promise<Session> {
    const cfg = this.profile(name);
    let now = this.deps.clock.now();
    const window = this.deps.windows.get(name, now);
    if (!window) throw new WindowClosedError(name);
    try {
      // Scoped sessions end with their parent: ask for base credentials that outlive the session wanted.
      const wanted = cfg.roleArn ? 0 : Math.min(cfg.sessionTtl, window.end - now);
      const base = await this.deps.logins.roleCredentials(cfg.sso, cfg.accountId, cfg.ssoRole, wanted);
      now = this.deps.clock.now();
      const { policy, hash } = this.policyFor(cfg, window.end);
      const left = window.end - now;
      let durationMs: number;
      if (cfg.roleArn) {
        // Role chaining allows 900..3600 s; a session minted near the window's end outlives it at
        // AWS, which is why the policy denies everything from the window's end on.
        durationMs = Math.min(3600_000, Math.max(900_000, Math.min(cfg.sessionTtl, left)));
      } else {
        // GetScopedCredentials can never outlive its parent; ask for no more than all three allow.
        durationMs = Math.min(cfg.sessionTtl, left, base.expiration - now);
      }
      const durationSeconds = Math.floor(durationMs / 1000);
      if (durationSeconds < 1) throw new WindowClosedError(name);
      // CloudTrail shows this (scoped mode): who opened the window and why, as the audit log does.
      const description = `s3jit ${name}${window.who ? ` for ${window.who}` : ""}: ${window.reason}`;
      // assume-role, opt-in (the trust policy must allow sts:SetSourceIdentity): CloudTrail names who asked.
      const sourceIdentity = cfg.sourceIdentity && window.who ? sourceIdentityOf(window.who) : undefined;
      const minted = await this.deps.minter.mint({
        region: cfg.region,
        base,
        policy,
        durationSeconds,
        description,
        ...(cfg.roleArn
          ? { roleArn: cfg.roleArn, roleSessionName: sessionName(name), ...(sourceIdentity ? { sourceIdentity } : {}) }
          : {}),
      });
      // The window may have been revoked or changed while STS answered.
      const current = this.deps.windows.get(name, this.deps.clock.now());
      if (!current || current.end !== window.end) throw new WindowClosedError(name);
      const session: Session = {
        profile: name,
        accessKeyId: minted.accessKeyId,
        secretAccessKey: minted.secretAccessKey,
        sessionToken: minted.sessionToken,
        expiration: Math.min(minted.expiration, window.end),
        accountId: cfg.accountId,
        roleArn: cfg.roleArn ?? minted.arn,
        windowEnd: window.end,
        policyHash: hash,
        ...(minted.requestId ? { requestId: minted.requestId } : {}),
      };
      this.sessions.set(name, session);
      await this.deps.vault.put(SESSION_KIND, name, session, session.expiration).catch((err: unknown) => {
        this.deps.audit.record("error", { profile: name, what: "keychain write failed", code: err instanceof S3jitError ? err.code : "Error" });
      });
      this.deps.audit.record("mint", {
        profile: name,
        accessKeyId: session.accessKeyId,
        expiration: iso(session.expiration),
        awsExpiration: iso(minted.expiration),
        windowEnd: iso(window.end),
        policyHash: hash,
        mode: cfg.roleArn ? "assume-role" : "scoped",
        durationSeconds,
        stsRequestId: minted.requestId,
      });
      this.emit({ type: "minted", profile: name, expiration: session.expiration });
      this.schedule(name, session, window);
      return session;
    } catch (err) {
      const e = err instanceof S3jitError ? err : new UpstreamError("minting failed");
      this.refused(name, e.code);
      if (e instanceof LoginRequiredError) this.emit({ type: "login-required", sso: cfg.sso });
      else if (e instanceof UpstreamError) this.retryLater(name);
      throw e;
    }
  }

  /** One timer per profile, at the next real deadline: refresh ahead, or the window's end. */
  private schedule(name: string, session: Session, window: Window): void {
    this.clearTimer(name);
    const now = this.deps.clock.now();
    // A third of the remaining life at most, so short sessions (session_ttl < 1h) do not refresh in a loop.
    const refreshAt = session.expiration - Math.min(REFRESH_AHEAD_MS, (session.expiration - now) / 3);
    const wantsRefresh = !endsWithWindow(session, window);
    const at = wantsRefresh ? Math.max(refreshAt, now) : window.end;
    this.setTimer(name, at - now, () => {
      if (wantsRefresh) this.mintOnce(name).catch(() => {});
      else this.windowEnded(name, window.end);
    });
  }

  private retryLater(name: string): void {
    this.clearTimer(name);
    this.setTimer(name, RETRY_MS, () => {
      if (this.deps.windows.get(name, this.deps.clock.now())) this.mintOnce(name).catch(() => {});
    });
  }

  private setTimer(name: string, ms: number, fn: () => void): void {
    const t = setTimeout(fn, Math.min(Math.max(ms, 0), 2 ** 31 - 1));
    t.unref();
    this.timers.set(name, t);
  }

  private clearTimer(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  /** Several timers may see the same end (the session's, the window's): it is announced once. */
  private windowEnded(name: string, end: number): void {
    if (this.deps.windows.get(name, this.deps.clock.now())) return;
    void this.purge(name);
    if (this.endAnnounced.get(name) === end) return;
    this.endAnnounced.set(name, end);
    this.deps.audit.record("expire", { profile: name });
    this.emit({ type: "window-closed", profile: name });
  }

  private refused(name: string, code: string): void {
    this.refusals.set(name, { code, at: this.deps.clock.now() });
    this.emit({ type: "refused", profile: name, code });
  }

  /**
   * Trays hear of a window's end without polling: one timer at end − 5 min (window-closing), then
   * one at the end (window-closed), also when no session was ever minted (no login yet).
   */
  private warnBeforeEnd(w: Window): void {
    const arm = (ms: number, fn: () => void) => {
      clearTimeout(this.closingTimers.get(w.profile));
      const t = setTimeout(fn, Math.min(Math.max(ms, 0), 2 ** 31 - 1));
      t.unref();
      this.closingTimers.set(w.profile, t);
    };
    // A timer may fire a millisecond early; the window is still open then.
    const atEnd = () => arm(w.end - this.deps.clock.now() + 5, () => this.windowEnded(w.profile, w.end));
    const ms = w.end - CLOSING_SOON_MS - this.deps.clock.now();
    if (ms <= 0) return atEnd();
    arm(ms, () => {
      const cur = this.deps.windows.get(w.profile, this.deps.clock.now());
      if (cur && cur.end === w.end) this.emit({ type: "window-closing", profile: w.profile, end: w.end });
      atEnd();
    });
  }

  private windowOpened(w: Window): void {
    this.warnBeforeEnd(w);
    this.deps.windowsChanged?.();
    this.deps.audit.record("grant", { profile: w.profile, start: iso(w.start), end: iso(w.end), reason: w.reason, who: w.who });
    this.emit({ type: "window-opened", profile: w.profile, end: w.end });
    // Mint ahead, so the first SDK request is served from the cache.
    this.mintOnce(w.profile).catch(() => {});
  }

  grant(name: string, req: GrantRequest): Window {
    const cfg = this.profile(name);
    const w = this.deps.windows.grant(name, req, cfg, this.deps.clock.now());
    this.windowOpened(w);
    return w;
  }

  async revoke(name: string): Promise<void> {
    this.profile(name);
    this.deps.windows.revoke(name, this.deps.clock.now());
    clearTimeout(this.closingTimers.get(name));
    this.deps.windowsChanged?.();
    await this.purge(name);
    this.deps.audit.record("revoke", { profile: name });
    this.emit({ type: "window-closed", profile: name });
  }

  /** Forget every cached session (logout, config change). */
  async purgeAll(): Promise<void> {
    const names = new Set([...Object.keys(this.deps.config().profiles), ...this.sessions.keys()]);
    await Promise.all([...names].map((p) => this.purge(p)));
  }

  private async purge(name: string): Promise<void> {
    this.clearTimer(name);
    this.sessions.delete(name);
    await this.deps.vault.remove(SESSION_KIND, name);
  }

  /** Mint for windows that are open at start-up (after a restart), from the keychain if possible. */
  resume(): void {
    const now = this.deps.clock.now();
    for (const name of Object.keys(this.deps.config().profiles)) {
      const w = this.deps.windows.get(name, now);
      if (!w) continue;
      this.warnBeforeEnd(w);
      if (!this.usable(name, w, now)) this.mintOnce(name).catch(() => {});
    }
  }

  status(name: string): { window: Window | null; session: { expiration: number; accessKeyId: string } | null; lastRefusal: Refusal | null; minting: boolean } {
    const now = this.deps.clock.now();
    const window = this.deps.windows.get(name, now);
    const s = this.sessions.get(name);
    return {
      window,
      session: window && s && s.expiration > now ? { expiration: s.expiration, accessKeyId: s.accessKeyId } : null,
      lastRefusal: this.refusals.get(name) ?? null,
      minting: this.flights.has(name),
    };
  }

  close(): void {
    for (const name of [...this.timers.keys()]) this.clearTimer(name);
    for (const t of this.closingTimers.values()) clearTimeout(t);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * SourceIdentity allows [\w+=,.@-]{2,64}; `who` is a login name from the user's environment, so a
 * name AWS would refuse (a space, an umlaut) is made acceptable instead of failing every mint.
 */
function sourceIdentityOf(who: string): string | undefined {
  const id = who.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return id.length >= 2 ? id : undefined;
}

/** RoleSessionName allows [\w+=,.@-]{2,64}. */
function sessionName(profile: string): string {
  return `s3jit-${profile}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}
