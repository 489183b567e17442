import { systemTimers, type Timers } from "../clock.js";
import type { ProfileConfig } from "../config/types.js";
import { LoginRequiredError, MintPendingError, MintRefusedError, S3jitError, UnknownProfileError, UpstreamError, WindowClosedError } from "../errors.js";
import type { Session } from "../types.js";
import { iso } from "../time.js";
import type { GrantRequest, Window } from "../windows/windows.js";
import { Emitter, type BrokerEvent } from "./events.js";
import { mintAuditFields, mintSession } from "./mint.js";
import type { BrokerDeps, Refusal } from "./ports.js";
import { Refusals } from "./refusals.js";
import { Schedule } from "./schedule.js";
import { SessionCache } from "./session-cache.js";
import { SingleFlight, StaleFlightError, within } from "./single-flight.js";

export type { BrokerDeps, BrokerEvent, GrantRequest, Refusal, Window };
export type { SessionVault, Windows } from "./ports.js";
export { REFRESH_AHEAD_MS, CLOSING_SOON_MS } from "./schedule.js";

/** A request decides again this often when state changes overtake its mints, then gets 503. */
const DECISIONS = 3;

/**
 * The one place that decides whether and what to hand out. Every path to a credential goes
 * through `credentials()`, whose checks are the rules of DESIGN.md §2 "never beyond the window".
 */
export class Broker {
  private readonly cache: SessionCache;
  private readonly schedule: Schedule;
  private readonly events = new Emitter<BrokerEvent>();
  private readonly flights = new SingleFlight<Session>();
  private readonly endAnnounced = new Map<string, number>();
  private readonly refusals = new Refusals();
  private readonly timers: Timers;
  private readonly waitMs: number;

  constructor(private readonly deps: BrokerDeps) {
    this.waitMs = deps.requestWaitMs ?? 800;
    this.timers = deps.timers ?? systemTimers;
    this.cache = new SessionCache(deps.vault);
    this.schedule = new Schedule(deps.clock, this.timers, {
      refresh: (name) => this.background(name),
      retry: (name) => {
        if (this.deps.windows.get(name, this.deps.clock.now())) this.background(name);
      },
      closing: (w) => {
        const cur = this.deps.windows.get(w.profile, this.deps.clock.now());
        if (cur && cur.end === w.end) this.events.emit({ type: "window-closing", profile: w.profile, end: w.end });
      },
      ended: (name, end) => this.windowEnded(name, end),
    });
  }

  on(listener: (e: BrokerEvent) => void): () => void {
    return this.events.on(listener);
  }

  private profile(name: string): ProfileConfig {
    const profiles = this.deps.config().profiles;
    const p = profiles[name];
    if (!p) throw new UnknownProfileError(name, Object.keys(profiles));
    return p;
  }

  /** Every path to a credential but the endpoint's: `serve()`, always as a promise. */
  async credentials(name: string): Promise<Session> {
    return this.serve(name);
  }

  /**
   * The hot path: a session good to serve now is returned as is (no promise, no microtask: the
   * endpoint answers in the same tick); otherwise a promise of the mint this request waits for.
   * A refusal decided now is thrown now; one decided while waiting rejects the promise.
   */
  serve(name: string): Session | Promise<Session> {
    let cached: Session | null;
    try {
      cached = this.decide(name);
    } catch (err) {
      this.reportRefusal(name, err);
      throw err;
    }
    return cached ?? this.waitForMint(name);
  }

  private async waitForMint(name: string): Promise<Session> {
    try {
      for (let i = 1; ; i++) {
        try {
          // A state change overtook the last mint: decide again under the new state.
          const cached = i === 1 ? null : this.decide(name);
          if (cached) return cached;
          return await within(this.timers, this.waitMs, this.mintOnce(name), () => new MintPendingError(name));
        } catch (err) {
          if (!(err instanceof StaleFlightError)) throw err;
          if (i === DECISIONS) throw new MintPendingError(name);
        }
      }
    } catch (err) {
      this.reportRefusal(name, err);
      throw err;
    }
  }

  /** A refusal (not a mint still under way) goes to status and audit. */
  private reportRefusal(name: string, err: unknown): void {
    if (err instanceof S3jitError && !(err instanceof MintPendingError)) this.refused(name, err);
  }

  /** The cached session to serve now, or null when this request must wait for a mint; throws a refusal. */
  private decide(name: string): Session | null {
    const cfg = this.profile(name);
    const now = this.deps.clock.now();
    let window = this.deps.windows.get(name, now);
    if (!window) {
      // The window-end timer may not have fired (a laptop that slept): purge on the refusal path too.
      const s = this.cache.peek(name);
      if (s) this.windowEnded(name, s.windowEnd);
      if (cfg.grant !== "on-demand") throw new WindowClosedError(name);
      window = this.deps.windows.onDemand(name, cfg, now);
      this.windowOpened(window);
    }
    return this.usable(name, cfg, window, now);
  }

  /** A cached session good to serve in this window, under today's policy; a restored one gets its refresh. */
  private usable(name: string, cfg: ProfileConfig, window: Window, now: number): Session | null {
    const found = this.cache.usable(name, window, now, this.cache.policy(cfg, window.end).hash);
    if (found?.restored) this.schedule.session(name, found.session, window);
    return found?.session ?? null;
  }

  /** Single flight: however many requests arrive, one mint per profile and state is under way. */
  private mintOnce(name: string): Promise<Session> {
    const ticket = this.ticket(name);
    return this.flights.run(name, ticket, () => this.mint(name, ticket));
  }

  /** What a mint started now depends on (see SessionCache.ticket). */
  private ticket(name: string): string {
    return this.cache.ticket(name, this.profile(name), this.deps.windows.get(name, this.deps.clock.now()));
  }

  /** A mint nobody waits for (ahead of a request, a refresh, a retry): its failure is a refusal. */
  private background(name: string): void {
    this.mintOnce(name).catch(() => {});
  }

  private async mint(name: string, ticket: string): Promise<Session> {
    const cfg = this.profile(name);
    const window = this.deps.windows.get(name, this.deps.clock.now());
    if (!window) throw new WindowClosedError(name);
    const standing = this.refusals.standing(name, cfg);
    if (standing) throw standing;
    // Whatever SSO or STS answer, a state change while they answered wins (DESIGN.md §2 rule 6):
    // this mint then stores and serves nothing, and its callers get what the state allows now.
    const current = () => this.ticket(name) === ticket;
    try {
      const outcome = await mintSession(this.deps, name, cfg, window, this.cache.policy(cfg, window.end));
      const { session } = outcome;
      const kept = await this.cache.store(name, session, current, (err) => {
        this.deps.audit.record("error", { profile: name, what: "keychain write failed", code: err instanceof S3jitError ? err.code : "Error" });
      });
      if (!kept) throw new StaleFlightError();
      this.deps.audit.record("mint", mintAuditFields(name, cfg, window, outcome));
      this.events.emit({ type: "minted", profile: name, expiration: session.expiration });
      this.schedule.session(name, session, window);
      return session;
    } catch (err) {
      if (!current()) throw new StaleFlightError();
      const e = err instanceof S3jitError ? err : new UpstreamError("minting failed");
      this.refused(name, e);
      if (e instanceof MintRefusedError) this.mintRefused(name, cfg, e);
      else if (e instanceof LoginRequiredError) this.events.emit({ type: "login-required", sso: cfg.sso });
      else if (e instanceof UpstreamError) this.schedule.retry(name);
      throw e;
    }
  }

  /** Asking again changes nothing until the config does: no retry, the reason in status and audit. */
  private mintRefused(name: string, cfg: ProfileConfig, e: MintRefusedError): void {
    this.refusals.refuseForGood(name, cfg, e);
    this.schedule.cancel(name);
    this.deps.audit.record("refuse", { profile: name, code: e.code, awsCode: e.awsCode, what: "mint" });
  }

  /** Several timers may see the same end (the session's, the window's): it is announced once. */
  private windowEnded(name: string, end: number): void {
    if (this.deps.windows.get(name, this.deps.clock.now())) return;
    void this.purge(name);
    if (this.endAnnounced.get(name) === end) return;
    this.endAnnounced.set(name, end);
    this.deps.audit.record("expire", { profile: name });
    this.events.emit({ type: "window-closed", profile: name });
  }

  private refused(name: string, e: S3jitError): void {
    this.refusals.record(name, e, this.deps.clock.now());
    this.events.emit({ type: "refused", profile: name, code: e.code });
  }

  private windowOpened(w: Window): void {
    this.schedule.window(w);
    this.deps.windowsChanged?.();
    this.deps.audit.record("grant", { profile: w.profile, start: iso(w.start), end: iso(w.end), reason: w.reason, who: w.who });
    this.events.emit({ type: "window-opened", profile: w.profile, end: w.end });
    // Mint ahead, so the first SDK request is served from the cache.
    this.background(w.profile);
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
    this.schedule.cancelWindow(name);
    this.deps.windowsChanged?.();
    await this.purge(name);
    this.deps.audit.record("revoke", { profile: name });
    this.events.emit({ type: "window-closed", profile: name });
  }

  /** Forget every cached session (logout, config change). */
  async purgeAll(): Promise<void> {
    const names = new Set([...Object.keys(this.deps.config().profiles), ...this.cache.names()]);
    await Promise.all([...names].map((p) => this.purge(p)));
  }

  private async purge(name: string): Promise<void> {
    this.schedule.cancel(name);
    await this.cache.purge(name);
  }

  /**
   * The SSO instance's login is gone (logout): a mint in flight for any of its profiles stores
   * nothing, and their cached sessions go. Call before the login is forgotten.
   */
  async loggedOut(sso: string): Promise<void> {
    this.cache.bumpSso(sso);
    const names = Object.entries(this.deps.config().profiles).filter(([, p]) => p.sso === sso);
    await Promise.all(names.map(([name]) => this.purge(name)));
  }

  /** Mint for windows that are open at start-up (after a restart), from the keychain if possible. */
  resume(): void {
    const now = this.deps.clock.now();
    for (const [name, cfg] of Object.entries(this.deps.config().profiles)) {
      const w = this.deps.windows.get(name, now);
      if (!w) continue;
      this.schedule.window(w);
      if (!this.usable(name, cfg, w, now)) this.background(name);
    }
  }

  status(name: string): { window: Window | null; session: { expiration: number; accessKeyId: string } | null; lastRefusal: Refusal | null; minting: boolean } {
    const now = this.deps.clock.now();
    const window = this.deps.windows.get(name, now);
    const cfg = this.deps.config().profiles[name];
    const s = window && cfg ? this.cache.held(name, this.cache.policy(cfg, window.end).hash, now) : null;
    return {
      window,
      session: s ? { expiration: s.expiration, accessKeyId: s.accessKeyId } : null,
      lastRefusal: this.refusals.lastOf(name),
      minting: this.flights.has(name),
    };
  }

  close(): void {
    this.schedule.close();
  }
}
