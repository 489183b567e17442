import type { Clock } from "../clock.js";
import type { SsoConfig } from "../config/types.js";
import { LoginRequiredError, UsageError } from "../errors.js";
import type { Vault } from "../store/secrets.js";
import { TokenPollFailure, type Registration, type SsoApi, type TokenGrant } from "./api.js";

/** What the keychain holds per IAM Identity Center instance. */
export interface StoredLogin {
  startUrl: string;
  region: string;
  registration: Registration;
  token?: TokenGrant;
}

/** Where logins survive a restart (the keychain). */
export type LoginVault = Vault;

export interface TokenState {
  loggedIn: boolean;
  /** ISO time the access token (or, with a refresh token, the registration) ends. */
  expiresAt: string | null;
}

export interface TokenDeps {
  api: SsoApi;
  vault: LoginVault;
  clock: Clock;
  sso: () => Record<string, SsoConfig>;
}

const KIND = "sso-login";
/** Refresh the access token this long before it expires, so no request waits on it. */
const REFRESH_AHEAD_MS = 5 * 60_000;
/** A stored registration is reused for a new login only if it lives at least this much longer. */
const REGISTRATION_REUSE_MS = 3600_000;

/**
 * The token keeper: one login per IAM Identity Center instance in the keychain, its access token
 * refreshed with the refresh token (once, however many callers ask), so a user logs in once per
 * registration, not once per hour.
 */
export class TokenKeeper {
  private readonly refreshing = new Map<string, Promise<string>>();
  private readonly generations = new Map<string, number>();

  constructor(private readonly deps: TokenDeps) {}

  config(name: string): SsoConfig {
    const sso = this.deps.sso();
    const cfg = sso[name];
    if (!cfg) throw new UsageError(`no [sso.${name}] in the config (known: ${Object.keys(sso).join(", ") || "none"})`);
    return cfg;
  }

  /** A stored login, only if it belongs to the configured instance (config may have changed). */
  stored(name: string): StoredLogin | null {
    const cfg = this.config(name);
    const s = this.deps.vault.take<StoredLogin>(KIND, name, this.deps.clock.now());
    if (!s || s.startUrl !== cfg.startUrl || s.region !== cfg.region) return null;
    return s;
  }

  state(name: string): TokenState {
    const s = this.stored(name);
    const now = this.deps.clock.now();
    const token = s?.token;
    const usable = !!token && (token.expiresAt > now || (!!token.refreshToken && s!.registration.expiresAt > now));
    const end = token ? (token.refreshToken ? s!.registration.expiresAt : token.expiresAt) : null;
    return { loggedIn: usable, expiresAt: usable && end ? new Date(end).toISOString() : null };
  }

  /**
   * Moves on at every logout. Work that started under one generation (a refresh, a role-credential
   * fetch, a login, a mint) stores and returns nothing once it has moved on.
   */
  generation(name: string): number {
    return this.generations.get(name) ?? 0;
  }

  /** A valid access token, refreshed silently where possible; LoginRequiredError otherwise. */
  async accessToken(name: string): Promise<string> {
    const s = this.stored(name);
    const now = this.deps.clock.now();
    if (s?.token && s.token.expiresAt - now > REFRESH_AHEAD_MS) return s.token.accessToken;
    if (!s?.token?.refreshToken) {
      if (s?.token && s.token.expiresAt > now) return s.token.accessToken;
      throw new LoginRequiredError(name);
    }
    let inflight = this.refreshing.get(name);
    if (!inflight) {
      const started: Promise<string> = this.refresh(name, s, s.token.refreshToken).finally(() => {
        if (this.refreshing.get(name) === started) this.refreshing.delete(name);
      });
      this.refreshing.set(name, (inflight = started));
    }
    return inflight;
  }

  private async refresh(name: string, s: StoredLogin, refreshToken: string): Promise<string> {
    const generation = this.generation(name);
    try {
      const grant = await this.deps.api.refreshToken(s.region, s.registration, refreshToken);
      if (this.generation(name) !== generation) {
        // Logged out while IAM Identity Center answered: keep nothing, and end the login this
        // answer renewed there too (best effort; the local copy is gone either way).
        await this.deps.api.logout(s.region, grant.accessToken).catch(() => {});
        throw new LoginRequiredError(name);
      }
      // Some issuers rotate the refresh token, some do not: keep the old one when none comes back.
      const token = { ...grant, refreshToken: grant.refreshToken ?? refreshToken };
      await this.save(name, { ...s, token }, generation);
      return token.accessToken;
    } catch (err) {
      if (err instanceof LoginRequiredError || this.generation(name) !== generation) throw new LoginRequiredError(name);
      if (err instanceof TokenPollFailure) {
        await this.signedOut(name, s, generation);
        throw new LoginRequiredError(name);
      }
      // A network failure while the old token still works: keep using it.
      if (s.token && s.token.expiresAt > this.deps.clock.now()) return s.token.accessToken;
      throw err;
    }
  }

  /** The stored client registration for `flow` while it has an hour left, else a new one. */
  async registration(name: string, flow: "pkce" | "device"): Promise<Registration> {
    const cfg = this.config(name);
    const now = this.deps.clock.now();
    const prev = this.deps.vault.take<StoredLogin>(KIND, name, now);
    const reusable = prev && prev.startUrl === cfg.startUrl && prev.region === cfg.region && prev.registration.flow === flow;
    if (reusable && prev.registration.expiresAt - now > REGISTRATION_REUSE_MS) return prev.registration;
    return this.deps.api.registerClient(cfg.region, cfg.scopes, flow);
  }

  /** Stores a login completed under `generation`. */
  async loggedIn(name: string, registration: Registration, token: TokenGrant, generation: number): Promise<void> {
    const cfg = this.config(name);
    await this.save(name, { startUrl: cfg.startUrl, region: cfg.region, registration, token }, generation);
  }

  /** IAM Identity Center no longer accepts the token: keep the registration, drop the token. */
  async signedOut(name: string, s: StoredLogin | null, generation: number): Promise<void> {
    if (s) await this.save(name, { startUrl: s.startUrl, region: s.region, registration: s.registration }, generation);
  }

  /**
   * Forgets the login; returns what was stored, so the caller can end it at IAM Identity Center
   * too. The generation moves on before anything is awaited: whatever is under way loses.
   */
  async forget(name: string): Promise<StoredLogin | null> {
    this.generations.set(name, this.generation(name) + 1);
    this.refreshing.delete(name);
    const s = this.stored(name);
    await this.deps.vault.remove(KIND, name);
    return s;
  }

  /** Writes only while `generation` is current; a logout during the write takes it back out. */
  private async save(name: string, s: StoredLogin, generation: number): Promise<void> {
    if (this.generation(name) !== generation) throw new LoginRequiredError(name);
    const end = s.token?.refreshToken ? s.registration.expiresAt : (s.token?.expiresAt ?? s.registration.expiresAt);
    await this.deps.vault.put(KIND, name, s, Math.min(end, s.registration.expiresAt));
    if (this.generation(name) !== generation) {
      await this.deps.vault.remove(KIND, name);
      throw new LoginRequiredError(name);
    }
  }
}
