import type { Clock } from "../clock.js";
import type { SsoConfig } from "../config/types.js";
import { LoginRequiredError, S3jitError } from "../errors.js";
import type { AwsCredentials } from "../types.js";
import type { SsoApi, TokenGrant } from "./api.js";
import { startDeviceLogin, type Sleep } from "./device-login.js";
import { loginCancelled, type LoginFlow, type LoginPrompt } from "./flow.js";
import { listenForCallback } from "./pkce.js";
import { startPkceLogin, type CallbackListener } from "./pkce-login.js";
import { RoleCredentials } from "./role-credentials.js";
import { TokenKeeper, type LoginVault, type TokenState } from "./tokens.js";

export type { LoginPrompt } from "./flow.js";
export type { LoginVault, StoredLogin } from "./tokens.js";

export interface LoginState extends TokenState {
  loginPending: boolean;
}

export interface SsoLoginsDeps {
  api: SsoApi;
  vault: LoginVault;
  clock: Clock;
  sso: () => Record<string, SsoConfig>;
  /** Device-code polling waits with this (tests pass one that moves their clock). */
  sleep?: Sleep;
  /** The PKCE flow's loopback listener (default: pkce.ts). */
  listen?: CallbackListener;
  onLogin?: (sso: string, ok: boolean, detail?: string) => void;
}

/**
 * IAM Identity Center for the daemon: logins (one flow at a time per instance), the token keeper
 * behind them, and the role credentials every mint starts from.
 */
export class SsoLogins {
  private readonly pending = new Map<string, { prompt: Promise<LoginPrompt>; done: Promise<void> }>();
  private readonly tokens: TokenKeeper;
  private readonly roles: RoleCredentials;

  constructor(private readonly deps: SsoLoginsDeps) {
    this.tokens = new TokenKeeper(deps);
    this.roles = new RoleCredentials({ api: deps.api, clock: deps.clock, tokens: this.tokens });
  }

  state(name: string): LoginState {
    return { ...this.tokens.state(name), loginPending: this.pending.has(name) };
  }

  /** A valid access token, refreshed silently where possible; LoginRequiredError otherwise. */
  accessToken(name: string): Promise<string> {
    return this.tokens.accessToken(name);
  }

  /** Moves on at every logout of `name` (see TokenKeeper.generation); the broker compares it around a mint. */
  generation(name: string): number {
    return this.tokens.generation(name);
  }

  /**
   * Start a login, or return the one already under way: however many callers ask, one flow runs,
   * so the user sees one code and one browser tab. The login is recorded before anything is
   * awaited, so callers arriving at the same moment join it too.
   */
  startLogin(name: string, flow: "pkce" | "device" = "device"): Promise<LoginPrompt> {
    const existing = this.pending.get(name);
    if (existing) return existing.prompt;
    const started = this.begin(name, flow);
    const done: Promise<void> = started
      .then((f) => f.done)
      .then(
        () => this.deps.onLogin?.(name, true),
        (err: unknown) => {
          this.deps.onLogin?.(name, false, err instanceof S3jitError ? err.code : "Error");
          throw err;
        },
      )
      .finally(() => {
        if (this.pending.get(name)?.done === done) this.pending.delete(name);
      });
    // Nobody may be waiting (the CLI was interrupted); the outcome is reported through onLogin.
    done.catch(() => {});
    const prompt = started.then((f) => f.prompt);
    this.pending.set(name, { prompt, done });
    return prompt;
  }

  private async begin(name: string, flow: "pkce" | "device"): Promise<LoginFlow> {
    const generation = this.tokens.generation(name);
    const cfg = this.tokens.config(name);
    const registration = await this.tokens.registration(name, flow);
    const cancelled = () => this.tokens.generation(name) !== generation;
    const complete = async (token: TokenGrant) => {
      if (cancelled()) throw loginCancelled();
      await this.tokens.loggedIn(name, registration, token, generation);
      this.roles.clear(name);
    };
    const input = { api: this.deps.api, clock: this.deps.clock, name, cfg, registration, complete, cancelled };
    return flow === "pkce" ? startPkceLogin(input, this.deps.listen ?? listenForCallback) : startDeviceLogin(input, this.deps.sleep);
  }

  /** Resolves when the login under way completes; rejects when it fails or expires. */
  async waitLogin(name: string): Promise<LoginState> {
    const p = this.pending.get(name);
    if (p) await p.done;
    const st = this.state(name);
    if (!st.loggedIn) throw new LoginRequiredError(name);
    return st;
  }

  /** Base credentials of the permission set's role (see RoleCredentials.get). */
  roleCredentials(name: string, accountId: string, roleName: string, minLifeMs = 0): Promise<AwsCredentials> {
    return this.roles.get(name, accountId, roleName, minLifeMs);
  }

  /** The accounts and roles this login may use (for `s3jit init`). */
  async accounts(name: string): Promise<Array<{ accountId: string; accountName: string; roles: string[] }>> {
    const token = await this.tokens.accessToken(name);
    return this.deps.api.listAccounts(this.tokens.config(name).region, token);
  }

  /**
   * Forgets the login, its base credentials and any login under way. Work in flight for this
   * instance (a refresh, GetRoleCredentials, a login) stores and returns nothing afterwards.
   */
  async logout(name: string): Promise<void> {
    const forgetting = this.tokens.forget(name);
    this.pending.delete(name);
    this.roles.clear(name);
    const s = await forgetting;
    if (s?.token && s.token.expiresAt > this.deps.clock.now()) {
      // Best effort: the local token is gone either way.
      await this.deps.api.logout(s.region, s.token.accessToken).catch(() => {});
    }
  }
}
