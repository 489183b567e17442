import type { AwsCredentials } from "../types.js";
import { RegionalClients } from "../aws/clients.js";
import { call, errorName, upstream } from "../aws/errors.js";
import { S3jitError, UpstreamError } from "../errors.js";

/**
 * The IAM Identity Center calls s3jit makes, over the real AWS SDK. The SDK is imported lazily so
 * CLI commands that never talk to AWS (status, env) start fast. Endpoints come from the SDK's own
 * AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC variables: the sandbox needs no code path here.
 */
export interface Registration {
  clientId: string;
  clientSecret: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Registered for authorization code + PKCE (with a loopback redirect), or for the device flow. */
  flow: "pkce" | "device";
  /** Where the browser goes for PKCE (RegisterClient names it). */
  authorizationEndpoint?: string;
}

/** Registered redirect: the port is chosen per login (RFC 8252 §7.3). */
export const PKCE_REDIRECT = "http://127.0.0.1/oauth/callback";

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  /** Epoch ms when the code expires. */
  expiresAt: number;
  intervalSeconds: number;
}

export interface TokenGrant {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  refreshToken?: string;
}

/** Errors of CreateToken that drive the device-code polling loop. */
export type TokenPollError = "AuthorizationPending" | "SlowDown" | "ExpiredToken" | "AccessDenied" | "InvalidGrant";

export class TokenPollFailure extends S3jitError {
  constructor(readonly reason: TokenPollError) {
    super(reason, `IAM Identity Center answered ${reason}`);
  }
}

export interface SsoApi {
  registerClient(region: string, scopes: string[], flow?: "pkce" | "device"): Promise<Registration>;
  /** Where the browser starts a PKCE login (the same SSO-OIDC endpoint the SDK calls). */
  authorizationEndpoint(region: string, reg: Registration): string;
  createTokenFromCode(region: string, reg: Registration, code: string, codeVerifier: string, redirectUri: string): Promise<TokenGrant>;
  startDeviceAuthorization(region: string, reg: Registration, startUrl: string): Promise<DeviceAuthorization>;
  createTokenFromDeviceCode(region: string, reg: Registration, deviceCode: string): Promise<TokenGrant>;
  refreshToken(region: string, reg: Registration, refreshToken: string): Promise<TokenGrant>;
  getRoleCredentials(region: string, accessToken: string, accountId: string, roleName: string): Promise<AwsCredentials>;
  logout(region: string, accessToken: string): Promise<void>;
  /** Every account the login may use, with its roles (ListAccounts + ListAccountRoles, all pages). */
  listAccounts(region: string, accessToken: string): Promise<Array<{ accountId: string; accountName: string; roles: string[] }>>;
}

type OidcModule = typeof import("@aws-sdk/client-sso-oidc");
type SsoModule = typeof import("@aws-sdk/client-sso");

const POLL_ERRORS: Record<string, TokenPollError> = {
  AuthorizationPendingException: "AuthorizationPending",
  SlowDownException: "SlowDown",
  ExpiredTokenException: "ExpiredToken",
  AccessDeniedException: "AccessDenied",
  InvalidGrantException: "InvalidGrant",
};

/**
 * The SSO-OIDC endpoint the SDK itself is pointed at (AWS_ENDPOINT_URL_SSO_OIDC, then
 * AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), or undefined for AWS's own.
 * The authorize page lives on the same host, so the browser goes where the token calls go.
 */
export function configuredOidcEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return undefined;
  const url = env.AWS_ENDPOINT_URL_SSO_OIDC || env.AWS_ENDPOINT_URL;
  return url ? url.replace(/\/+$/, "") : undefined;
}

/** Where the browser starts a PKCE login: the SSO-OIDC host the SDK calls (no SDK needed to know it). */
export function authorizationEndpoint(env: NodeJS.ProcessEnv, region: string, reg: Registration): string {
  const configured = configuredOidcEndpoint(env);
  if (configured) return `${configured}/authorize`;
  return reg.authorizationEndpoint ?? `https://oidc.${region}.amazonaws.com/authorize`;
}

export class AwsSsoApi implements SsoApi {
  private readonly oidcClients = new RegionalClients<OidcModule, InstanceType<OidcModule["SSOOIDCClient"]>>(
    () => import("@aws-sdk/client-sso-oidc"),
    (mod, region) => new mod.SSOOIDCClient({ region }),
  );
  private readonly ssoClients = new RegionalClients<SsoModule, InstanceType<SsoModule["SSOClient"]>>(
    () => import("@aws-sdk/client-sso"),
    (mod, region) => new mod.SSOClient({ region }),
  );

  constructor(
    private readonly now: () => number = Date.now,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  authorizationEndpoint(region: string, reg: Registration): string {
    return authorizationEndpoint(this.env, region, reg);
  }

  private oidc(region: string) {
    return this.oidcClients.get(region);
  }

  private sso(region: string) {
    return this.ssoClients.get(region);
  }

  async registerClient(region: string, scopes: string[], flow: "pkce" | "device" = "device"): Promise<Registration> {
    const { mod, client } = await this.oidc(region);
    const pkce = flow === "pkce" ? { grantTypes: ["authorization_code", "refresh_token"], redirectUris: [PKCE_REDIRECT] } : {};
    const out = await call(() => client.send(new mod.RegisterClientCommand({ clientName: "s3jit", clientType: "public", scopes, ...pkce })));
    if (!out.clientId || !out.clientSecret) throw new UpstreamError("IAM Identity Center returned an incomplete client registration");
    return {
      clientId: out.clientId,
      clientSecret: out.clientSecret,
      expiresAt: (out.clientSecretExpiresAt ?? 0) * 1000,
      flow,
      ...(out.authorizationEndpoint ? { authorizationEndpoint: out.authorizationEndpoint } : {}),
    };
  }

  async createTokenFromCode(region: string, reg: Registration, code: string, codeVerifier: string, redirectUri: string): Promise<TokenGrant> {
    return this.createToken(region, reg, { grantType: "authorization_code", code, codeVerifier, redirectUri });
  }

  async startDeviceAuthorization(region: string, reg: Registration, startUrl: string): Promise<DeviceAuthorization> {
    const { mod, client } = await this.oidc(region);
    const out = await call(() =>
      client.send(new mod.StartDeviceAuthorizationCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret, startUrl })),
    );
    if (!out.deviceCode || !out.userCode || !out.verificationUri) throw new UpstreamError("IAM Identity Center returned an incomplete device authorization");
    return {
      deviceCode: out.deviceCode,
      userCode: out.userCode,
      verificationUri: out.verificationUri,
      verificationUriComplete: out.verificationUriComplete ?? out.verificationUri,
      expiresAt: this.now() + (out.expiresIn ?? 600) * 1000,
      intervalSeconds: out.interval ?? 5,
    };
  }

  async createTokenFromDeviceCode(region: string, reg: Registration, deviceCode: string): Promise<TokenGrant> {
    return this.createToken(region, reg, { grantType: "urn:ietf:params:oauth:grant-type:device_code", deviceCode });
  }

  async refreshToken(region: string, reg: Registration, refreshToken: string): Promise<TokenGrant> {
    return this.createToken(region, reg, { grantType: "refresh_token", refreshToken });
  }

  private async createToken(
    region: string,
    reg: Registration,
    input: { grantType: string; deviceCode?: string; refreshToken?: string; code?: string; codeVerifier?: string; redirectUri?: string },
  ): Promise<TokenGrant> {
    const { mod, client } = await this.oidc(region);
    let out;
    try {
      out = await client.send(new mod.CreateTokenCommand({ clientId: reg.clientId, clientSecret: reg.clientSecret, ...input }));
    } catch (err) {
      const reason = POLL_ERRORS[errorName(err)];
      if (reason) throw new TokenPollFailure(reason);
      throw upstream(err);
    }
    if (!out.accessToken) throw new UpstreamError("IAM Identity Center returned no access token");
    return {
      accessToken: out.accessToken,
      expiresAt: this.now() + (out.expiresIn ?? 3600) * 1000,
      ...(out.refreshToken ? { refreshToken: out.refreshToken } : {}),
    };
  }

  async getRoleCredentials(region: string, accessToken: string, accountId: string, roleName: string): Promise<AwsCredentials> {
    const { mod, client } = await this.sso(region);
    let out;
    try {
      out = await client.send(new mod.GetRoleCredentialsCommand({ accessToken, accountId, roleName }));
    } catch (err) {
      if (errorName(err) === "UnauthorizedException") throw new TokenPollFailure("ExpiredToken");
      throw upstream(err);
    }
    const c = out.roleCredentials;
    if (!c?.accessKeyId || !c.secretAccessKey || !c.sessionToken || !c.expiration) {
      throw new UpstreamError("IAM Identity Center returned incomplete role credentials");
    }
    // GetRoleCredentials reports expiration in epoch milliseconds (unlike STS's ISO strings).
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: c.expiration };
  }

  async listAccounts(region: string, accessToken: string): Promise<Array<{ accountId: string; accountName: string; roles: string[] }>> {
    const { mod, client } = await this.sso(region);
    const accounts: Array<{ accountId: string; accountName: string; roles: string[] }> = [];
    let nextToken: string | undefined;
    do {
      const page = await call(() => client.send(new mod.ListAccountsCommand({ accessToken, ...(nextToken ? { nextToken } : {}) })));
      for (const a of page.accountList ?? []) if (a.accountId) accounts.push({ accountId: a.accountId, accountName: a.accountName ?? "", roles: [] });
      nextToken = page.nextToken;
    } while (nextToken);
    for (const a of accounts) {
      let next: string | undefined;
      do {
        const page = await call(() => client.send(new mod.ListAccountRolesCommand({ accessToken, accountId: a.accountId, ...(next ? { nextToken: next } : {}) })));
        for (const r of page.roleList ?? []) if (r.roleName) a.roles.push(r.roleName);
        next = page.nextToken;
      } while (next);
    }
    return accounts;
  }

  async logout(region: string, accessToken: string): Promise<void> {
    const { mod, client } = await this.sso(region);
    await call(() => client.send(new mod.LogoutCommand({ accessToken })));
  }

  /** Closes the SDK clients' sockets (daemon shutdown). */
  destroy(): void {
    this.oidcClients.destroy();
    this.ssoClients.destroy();
  }
}
