import type { Clock } from "../clock.js";
import { LoginRequiredError } from "../errors.js";
import type { AwsCredentials } from "../types.js";
import { TokenPollFailure, type SsoApi } from "./api.js";
import type { TokenKeeper } from "./tokens.js";

/** Reuse GetRoleCredentials results until this close to their end. */
const ROLE_CREDS_MARGIN_MS = 5 * 60_000;

/**
 * The permission set's role credentials (sso:GetRoleCredentials): the base every mint starts
 * from, kept in memory only and reused while they last.
 */
export class RoleCredentials {
  private readonly cache = new Map<string, AwsCredentials>();

  constructor(private readonly deps: { api: SsoApi; clock: Clock; tokens: TokenKeeper }) {}

  /**
   * Base credentials reused until shortly before they end, or until they have less than
   * `minLifeMs` left: a scoped session can never outlive its parent, so a mint that wants an hour
   * must not start from base credentials with twenty minutes left.
   */
  async get(name: string, accountId: string, roleName: string, minLifeMs = 0): Promise<AwsCredentials> {
    const key = `${name}/${accountId}/${roleName}`;
    const now = this.deps.clock.now();
    const cached = this.cache.get(key);
    if (cached && cached.expiration - now > Math.max(ROLE_CREDS_MARGIN_MS, minLifeMs)) return cached;
    const { tokens } = this.deps;
    const region = tokens.config(name).region;
    const generation = tokens.generation(name);
    const token = await tokens.accessToken(name);
    try {
      const creds = await this.deps.api.getRoleCredentials(region, token, accountId, roleName);
      // Logged out while the portal answered: these credentials belong to a login that is gone.
      if (tokens.generation(name) !== generation) throw new LoginRequiredError(name);
      this.cache.set(key, creds);
      return creds;
    } catch (err) {
      if (err instanceof LoginRequiredError || tokens.generation(name) !== generation) throw new LoginRequiredError(name);
      if (err instanceof TokenPollFailure) {
        // The portal no longer accepts the token (signed out elsewhere): the user must log in.
        await tokens.signedOut(name, tokens.stored(name), generation);
        throw new LoginRequiredError(name);
      }
      // The portal failed, but the old credentials still work: a shorter session beats none.
      if (cached && cached.expiration - this.deps.clock.now() > ROLE_CREDS_MARGIN_MS) return cached;
      throw err;
    }
  }

  /** Forgets the base credentials of one IAM Identity Center instance. */
  clear(name: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${name}/`)) this.cache.delete(key);
  }
}
