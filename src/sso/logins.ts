import type { Clock } from "../clock.js";
import type { SsoConfig } from "../config/types.js";
import { LoginRequiredError, S3jitError, UsageError } from "../errors.js";
import type { AwsCredentials } from "../types.js";
import { TokenPollFailure, type DeviceAuthorization, type Registration, type SsoApi, type TokenGrant } from "./api.js";
import { listenForCallback } from "./pkce.js";
import type { Vault } from "../store/secrets.js";

/** What the keychain holds per IAM Identity Center instance. */
export interface StoredLogin {
  startUrl: string;
  region: string;
  registration: Registration;
  token?: TokenGrant;
}

/** Where logins survive a restart (the keychain). */
export type LoginVault = Vault;

export interface LoginPrompt {
  sso: string;
  flow: "pkce" | "device";
  /** What the user opens: the device verification page (with the code) or the authorize URL. */
  url: string;
  /** Device flow: the page without the code, and the code the user checks. */
  verificationUri?: string;
  userCode?: string;
  /** ISO 8601 UTC: when the code (or the PKCE wait) expires. */
  expiresAt: string;
}

/** How long a browser login may take before it is given up. */
const PKCE_TIMEOUT_MS = 10 * 60_000;

export interface LoginState {
  loggedIn: boolean;
  /** ISO time the access token (or, with a refresh token, the registration) ends. */
  expiresAt: string | null;
  loginPending: boolean;
}

interface PendingLogin {
  prompt: LoginPrompt;
  done: Promise<void>;
}

const KIND = "sso-login";
/** Refresh the access token this long before it expires, so no request waits on it. */
const REFRESH_AHEAD_MS = 5 * 60_000;
/** Reuse GetRoleCredentials results until this close to their end. */
const ROLE_CREDS_MARGIN_MS = 5 * 60_000;

/**
 * IAM Identity Center logins: one flow at a time per instance, tokens kept in the keychain and
 * refreshed with the refresh token, so a user logs in once per registration, not once per hour.
 */
export class SsoLogins {
  private readonly pending = new Map<string, PendingLogin>();
  private readonly refreshing = new Map<string, Promise<string>>();
  private readonly roleCreds = new Map<string, AwsCredentials>();

  constructor(
    private readonly deps: {
      api: SsoApi;
      vault: LoginVault;
      clock: Clock;
      sso: () => Record<string, SsoConfig>;
      sleep?: (ms: number) => Promise<void>;
      onLogin?: (sso: string, ok: boolean, detail?: string) => void;
    },
  ) {}

  private config(name: string): SsoConfig {
    const sso = this.deps.sso();
    const cfg = sso[name];
    if (!cfg) throw new UsageError(`no [sso.${name}] in the config (known: ${Object.keys(sso).join(", ") || "none"})`);
    return cfg;
  }

  /** A stored login, only if it belongs to the configured instance (config may have changed). */
  private stored(name: string): StoredLogin | null {
    const cfg = this.config(name);
    const s = this.deps.vault.take<StoredLogin>(KIND, name, this.deps.clock.now());
    if (!s || s.startUrl !== cfg.startUrl || s.region !== cfg.region) return null;
    return s;
  }

  state(name: string): LoginState {
    const s = this.stored(name);
    const now = this.deps.clock.now();
    const token = s?.token;
    const usable = !!token && (token.expiresAt > now || (!!token.refreshToken && s!.registration.expiresAt > now));
    const end = token ? (token.refreshToken ? s!.registration.expiresAt : token.expiresAt) : null;
    return { loggedIn: usable, expiresAt: usable && end ? new Date(end).toISOString() : null, loginPending: this.pending.has(name) };
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
      inflight = this.refresh(name, s, s.token.refreshToken).finally(() => this.refreshing.delete(name));
      this.refreshing.set(name, inflight);
    }
    return inflight;
  }

  private async refresh(name: string, s: StoredLogin, refreshToken: string): Promise<string> {
    try {
      const grant = await this.deps.api.refreshToken(s.region, s.registration, refreshToken);
      // Some issuers rotate the refresh token, some do not: keep the old one when none comes back.
      const token = { ...grant, refreshToken: grant.refreshToken ?? refreshToken };
      await this.save(name, { ...s, token });
      return token.accessToken;
    } catch (err) {
      if (err instanceof TokenPollFailure) {
        await this.save(name, { startUrl: s.startUrl, region: s.region, registration: s.registration });
        throw new LoginRequiredError(name);
      }
      // A network failure while the old token still works: keep using it.
      if (s.token && s.token.expiresAt > this.deps.clock.now()) return s.token.accessToken;
      throw err;
    }
  }

  private async save(name: string, s: StoredLogin): Promise<void> {
    const end = s.token?.refreshToken ? s.registration.expiresAt : (s.token?.expiresAt ?? s.registration.expiresAt);
    await this.deps.vault.put(KIND, name, s, Math.min(end, s.registration.expiresAt));
  }

  /**
   * Start a login, or return the one already under way: however many callers ask, one flow runs,
   * so the user sees one code and one browser tab.
   */
  async startLogin(name: string, flow: "pkce" | "device" = "device"): Promise<LoginPrompt> {
    const existing = this.pending.get(name);
    if (existing) return existing.prompt;
    const cfg = this.config(name);
    const now = this.deps.clock.now();
    const prev = this.deps.vault.take<StoredLogin>(KIND, name, now);
    const registration =
      prev && prev.startUrl === cfg.startUrl && prev.region === cfg.region && prev.registration.flow === flow && prev.registration.expiresAt - now > 3600_000
        ? prev.registration
        : await this.deps.api.registerClient(cfg.region, cfg.scopes, flow);
    const started = flow === "pkce" ? await this.startPkce(name, cfg, registration) : await this.startDevice(name, cfg, registration);
    const done = started.done.finally(() => this.pending.delete(name));
    // Nobody may be waiting (the CLI was interrupted); the outcome is reported through onLogin.
    done.catch(() => {});
    this.pending.set(name, { prompt: started.prompt, done });
    return started.prompt;
  }

  private async startDevice(name: string, cfg: SsoConfig, registration: Registration): Promise<{ prompt: LoginPrompt; done: Promise<void> }> {
    const auth = await this.deps.api.startDeviceAuthorization(cfg.region, registration, cfg.startUrl);
    const prompt: LoginPrompt = {
      sso: name,
      flow: "device",
      url: auth.verificationUriComplete,
      verificationUri: auth.verificationUri,
      userCode: auth.userCode,
      expiresAt: new Date(auth.expiresAt).toISOString(),
    };
    return { prompt, done: this.poll(name, cfg, registration, auth) };
  }

  private async startPkce(name: string, cfg: SsoConfig, registration: Registration): Promise<{ prompt: LoginPrompt; done: Promise<void> }> {
    const cb = await listenForCallback(PKCE_TIMEOUT_MS);
    const url = new URL(this.deps.api.authorizationEndpoint(cfg.region, registration));
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: registration.clientId,
      redirect_uri: cb.redirectUri,
      state: cb.state,
      code_challenge: cb.challenge,
      code_challenge_method: "S256",
      scopes: cfg.scopes.join(" "),
    }).toString();
    const prompt: LoginPrompt = { sso: name, flow: "pkce", url: url.toString(), expiresAt: new Date(this.deps.clock.now() + PKCE_TIMEOUT_MS).toISOString() };
    const done = (async () => {
      try {
        let code: string;
        try {
          code = await cb.code;
        } catch (err) {
          throw (err as Error).message === "timeout"
            ? new S3jitError("LoginExpired", "the browser sign-in did not come back in time: run `s3jit login` again")
            : new S3jitError("LoginDenied", "the sign-in was not granted in the browser");
        }
        const token = await this.deps.api.createTokenFromCode(cfg.region, registration, code, cb.verifier, cb.redirectUri);
        await this.save(name, { startUrl: cfg.startUrl, region: cfg.region, registration, token });
        this.roleCreds.clear();
        cb.finish(true);
        this.deps.onLogin?.(name, true);
      } catch (err) {
        cb.finish(false);
        this.deps.onLogin?.(name, false, err instanceof S3jitError ? err.code : "Error");
        throw err;
      }
    })();
    return { prompt, done };
  }

  /** Resolves when the login under way completes; rejects when it fails or expires. */
  async waitLogin(name: string): Promise<LoginState> {
    const p = this.pending.get(name);
    if (p) await p.done;
    const st = this.state(name);
    if (!st.loggedIn) throw new LoginRequiredError(name);
    return st;
  }

  private async poll(name: string, cfg: SsoConfig, registration: Registration, auth: DeviceAuthorization): Promise<void> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let interval = auth.intervalSeconds;
    let first = true;
    try {
      for (;;) {
        if (!first) await sleep(interval * 1000);
        first = false;
        if (this.deps.clock.now() >= auth.expiresAt) throw new S3jitError("LoginExpired", "the login code expired before it was approved: run `s3jit login` again");
        try {
          const token = await this.deps.api.createTokenFromDeviceCode(cfg.region, registration, auth.deviceCode);
          await this.save(name, { startUrl: cfg.startUrl, region: cfg.region, registration, token });
          this.roleCreds.clear();
          this.deps.onLogin?.(name, true);
          return;
        } catch (err) {
          if (!(err instanceof TokenPollFailure)) throw err;
          if (err.reason === "AuthorizationPending") continue;
          // RFC 8628 §3.5: on slow_down the interval grows by 5 seconds for this and later polls.
          if (err.reason === "SlowDown") {
            interval += 5;
            continue;
          }
          if (err.reason === "ExpiredToken") throw new S3jitError("LoginExpired", "the login code expired before it was approved: run `s3jit login` again");
          throw new S3jitError("LoginDenied", "the login was denied in the browser");
        }
      }
    } catch (err) {
      this.deps.onLogin?.(name, false, err instanceof S3jitError ? err.code : "Error");
      throw err;
    }
  }

  /**
   * Base credentials of the permission set's role, reused until shortly before they end, or until
   * they have less than `minLifeMs` left: a scoped session can never outlive its parent, so a
   * mint that wants an hour must not start from base credentials with twenty minutes left.
   */
  async roleCredentials(name: string, accountId: string, roleName: string, minLifeMs = 0): Promise<AwsCredentials> {
    const key = `${name}/${accountId}/${roleName}`;
    const now = this.deps.clock.now();
    const cached = this.roleCreds.get(key);
    if (cached && cached.expiration - now > Math.max(ROLE_CREDS_MARGIN_MS, minLifeMs)) return cached;
    const cfg = this.config(name);
    const token = await this.accessToken(name);
    try {
      const creds = await this.deps.api.getRoleCredentials(cfg.region, token, accountId, roleName);
      this.roleCreds.set(key, creds);
      return creds;
    } catch (err) {
      if (err instanceof TokenPollFailure) {
        // The portal no longer accepts the token (signed out elsewhere): the user must log in.
        const s = this.stored(name);
        if (s) await this.save(name, { startUrl: s.startUrl, region: s.region, registration: s.registration });
        throw new LoginRequiredError(name);
      }
      // The portal failed, but the old credentials still work: a shorter session beats none.
      if (cached && cached.expiration - this.deps.clock.now() > ROLE_CREDS_MARGIN_MS) return cached;
      throw err;
    }
  }

  /** The accounts and roles this login may use (for `s3jit init`). */
  async accounts(name: string): Promise<Array<{ accountId: string; accountName: string; roles: string[] }>> {
    const token = await this.accessToken(name);
    return this.deps.api.listAccounts(this.config(name).region, token);
  }

  async logout(name: string): Promise<void> {
    const s = this.stored(name);
    this.roleCreds.clear();
    await this.deps.vault.remove(KIND, name);
    if (s?.token && s.token.expiresAt > this.deps.clock.now()) {
      // Best effort: the local token is gone either way.
      await this.deps.api.logout(s.region, s.token.accessToken).catch(() => {});
    }
  }
}
