import { createHash } from "node:crypto";
import type { SandboxContext } from "./context.js";
import { jsonResponse, restJsonError, type SandboxResponse } from "./http.js";
import { newOpaque, newUserCode } from "./secrets.js";

/** IAM Identity Center OIDC (restJson1): client registration, device code and PKCE logins, refresh. */

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const DEVICE_CODE_TTL_SECONDS = 600;
const AUTH_CODE_TTL_SECONDS = 300;
const CLIENT_SECRET_TTL_SECONDS = 90 * 24 * 3600;
// Real device codes ask for a 1 s poll interval; short keeps the sandbox's logins quick.
const POLL_INTERVAL_SECONDS = 1;

interface Client {
  secret: string;
  scopes: string[];
  redirectUris: string[];
  secretExpiresAt: number;
}

type DeviceState = "pending" | "approved" | "denied" | "used";

interface DeviceAuthorization {
  clientId: string;
  userCode: string;
  expiresAt: number;
  state: DeviceState;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  expiresAt: number;
  used: boolean;
}

/** One sign-in: logout ends it, and with it every access and refresh token it produced. */
interface LoginSession {
  clientId: string;
  scopes: string[];
  ended: boolean;
}

interface AccessToken {
  session: LoginSession;
  expiresAt: number;
}

function oidcError(status: number, code: string, description: string): SandboxResponse {
  // The model's members are `error` / `error_description` (OAuth's names).
  const oauthError = code.replace(/Exception$/, "").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return restJsonError(status, code, description, { error: oauthError, error_description: description });
}

function str(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  return typeof v === "string" ? v : undefined;
}

function strList(body: Record<string, unknown>, name: string): string[] {
  const v = body[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

export class OidcService {
  private readonly clients = new Map<string, Client>();
  private readonly devices = new Map<string, DeviceAuthorization>();
  private readonly deviceByUserCode = new Map<string, string>();
  private readonly authCodes = new Map<string, AuthorizationCode>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, LoginSession>();

  constructor(
    private readonly ctx: SandboxContext,
    /** false: an issuer that keeps one refresh token per login and sends no new one on refresh. */
    private readonly rotateRefreshTokens = true,
  ) {}

  handle(action: string, body: Record<string, unknown>): SandboxResponse {
    switch (action) {
      case "RegisterClient":
        return this.registerClient(body);
      case "StartDeviceAuthorization":
        return this.startDeviceAuthorization(body);
      default:
        return this.createToken(body);
    }
  }

  /** Marks a pending device code approved, as the user clicking "Allow" would. */
  approve(userCode: string): void {
    this.decide(userCode, "approved");
  }

  deny(userCode: string): void {
    this.decide(userCode, "denied");
  }

  approveAll(): void {
    for (const device of this.devices.values()) if (device.state === "pending") device.state = "approved";
  }

  hasUserCode(userCode: string): boolean {
    return this.deviceByUserCode.has(userCode);
  }

  /** The live login behind an access token, or undefined when unknown, expired or logged out. */
  sessionFor(accessToken: string | undefined): LoginSession | undefined {
    const token = accessToken === undefined ? undefined : this.accessTokens.get(accessToken);
    if (!token || token.session.ended || this.ctx.now() >= token.expiresAt) return undefined;
    return token.session;
  }

  /** Ends the login behind `accessToken`: its access and refresh tokens stop working. */
  logout(accessToken: string): boolean {
    const session = this.sessionFor(accessToken);
    if (!session) return false;
    session.ended = true;
    return true;
  }

  /**
   * The browser half of authorization code + PKCE. The sandbox plays a user who approves at
   * once: it redirects straight back to the client's loopback redirect_uri with a code.
   */
  authorize(query: URLSearchParams): SandboxResponse {
    const clientId = query.get("client_id") ?? "";
    const client = this.clients.get(clientId);
    const redirectUri = query.get("redirect_uri") ?? "";
    const codeChallenge = query.get("code_challenge") ?? "";
    if (!client) return oidcError(400, "InvalidClientException", "Unknown client_id");
    if (!client.redirectUris.some((r) => sameRedirect(r, redirectUri))) return oidcError(400, "InvalidRedirectUriException", "redirect_uri was not registered for this client");
    if (query.get("response_type") !== "code" || query.get("code_challenge_method") !== "S256" || codeChallenge === "") {
      return oidcError(400, "InvalidRequestException", "response_type=code with an S256 code_challenge is required");
    }
    const code = this.ctx.ledger.keep(newOpaque("code", 24));
    const scopes = (query.get("scopes") ?? query.get("scope") ?? "").split(/[ ,]+/).filter(Boolean);
    this.authCodes.set(code, { clientId, redirectUri, codeChallenge, scopes, expiresAt: this.ctx.now() + AUTH_CODE_TTL_SECONDS * 1000, used: false });
    const location = new URL(redirectUri);
    location.searchParams.set("code", code);
    const state = query.get("state");
    if (state !== null) location.searchParams.set("state", state);
    return { status: 302, headers: { location: location.toString() }, body: "" };
  }

  private decide(userCode: string, state: DeviceState): void {
    const device = this.devices.get(this.deviceByUserCode.get(userCode) ?? "");
    if (!device) throw new Error(`sandbox: no device authorization with user code ${userCode}`);
    if (device.state === "pending") device.state = state;
  }

  private registerClient(body: Record<string, unknown>): SandboxResponse {
    const clientName = str(body, "clientName");
    const clientType = str(body, "clientType");
    if (!clientName || !clientType) return oidcError(400, "InvalidRequestException", "clientName and clientType are required");
    if (clientType !== "public") return oidcError(400, "InvalidClientMetadataException", "clientType must be public");
    const now = this.ctx.now();
    const clientId = newOpaque("", 16);
    const client: Client = {
      secret: this.ctx.ledger.keep(newOpaque("csec", 64)),
      scopes: strList(body, "scopes"),
      redirectUris: strList(body, "redirectUris"),
      secretExpiresAt: now + CLIENT_SECRET_TTL_SECONDS * 1000,
    };
    this.clients.set(clientId, client);
    const grantTypes = strList(body, "grantTypes");
    const base = this.ctx.url();
    return jsonResponse(200, {
      clientId,
      clientSecret: client.secret,
      clientIdIssuedAt: Math.floor(now / 1000),
      clientSecretExpiresAt: Math.floor(client.secretExpiresAt / 1000),
      ...(grantTypes.includes("authorization_code") ? { authorizationEndpoint: `${base}/authorize`, tokenEndpoint: `${base}/token` } : {}),
    });
  }

  private client(body: Record<string, unknown>): { clientId: string; client: Client } | SandboxResponse {
    const clientId = str(body, "clientId") ?? "";
    const client = this.clients.get(clientId);
    if (!client || client.secret !== str(body, "clientSecret") || this.ctx.now() >= client.secretExpiresAt) {
      return oidcError(401, "InvalidClientException", "Invalid client id or secret");
    }
    return { clientId, client };
  }

  private startDeviceAuthorization(body: Record<string, unknown>): SandboxResponse {
    const found = this.client(body);
    if ("status" in found) return found;
    if (!str(body, "startUrl")) return oidcError(400, "InvalidRequestException", "startUrl is required");
    const deviceCode = this.ctx.ledger.keep(newOpaque("dev", 32));
    let userCode = newUserCode();
    while (this.deviceByUserCode.has(userCode)) userCode = newUserCode();
    this.devices.set(deviceCode, {
      clientId: found.clientId,
      userCode,
      expiresAt: this.ctx.now() + DEVICE_CODE_TTL_SECONDS * 1000,
      state: "pending",
    });
    this.deviceByUserCode.set(userCode, deviceCode);
    const verificationUri = `${this.ctx.url()}/sandbox/device`;
    return jsonResponse(200, {
      deviceCode,
      userCode,
      verificationUri,
      verificationUriComplete: `${verificationUri}?user_code=${userCode}`,
      expiresIn: DEVICE_CODE_TTL_SECONDS,
      interval: POLL_INTERVAL_SECONDS,
    });
  }

  private createToken(body: Record<string, unknown>): SandboxResponse {
    const found = this.client(body);
    if ("status" in found) return found;
    const grantType = str(body, "grantType");
    if (grantType === DEVICE_GRANT) return this.deviceGrant(found.clientId, found.client, str(body, "deviceCode"));
    if (grantType === "refresh_token") return this.refreshGrant(found.clientId, str(body, "refreshToken"));
    if (grantType === "authorization_code") return this.codeGrant(found.clientId, body);
    return oidcError(400, "UnsupportedGrantTypeException", `Unsupported grant type: ${grantType ?? "(none)"}`);
  }

  private deviceGrant(clientId: string, client: Client, deviceCode: string | undefined): SandboxResponse {
    const device = deviceCode === undefined ? undefined : this.devices.get(deviceCode);
    if (!device || device.clientId !== clientId || device.state === "used") {
      return oidcError(400, "InvalidGrantException", "Invalid device code provided");
    }
    if (this.ctx.now() >= device.expiresAt) return oidcError(400, "ExpiredTokenException", "Device code has expired");
    if (device.state === "pending" && this.ctx.autoApprove) device.state = "approved";
    if (device.state === "denied") return oidcError(400, "AccessDeniedException", "Access denied by the user");
    if (device.state === "pending") return oidcError(400, "AuthorizationPendingException", "Authorization is still pending");
    device.state = "used";
    return this.issueTokens({ clientId, scopes: client.scopes, ended: false });
  }

  private codeGrant(clientId: string, body: Record<string, unknown>): SandboxResponse {
    const code = str(body, "code");
    const grant = code === undefined ? undefined : this.authCodes.get(code);
    if (!grant || grant.used || grant.clientId !== clientId || this.ctx.now() >= grant.expiresAt) {
      return oidcError(400, "InvalidGrantException", "Invalid authorization code provided");
    }
    if (str(body, "redirectUri") !== grant.redirectUri) return oidcError(400, "InvalidGrantException", "redirectUri does not match the authorization request");
    const challenge = createHash("sha256").update(str(body, "codeVerifier") ?? "").digest("base64url");
    if (challenge !== grant.codeChallenge) return oidcError(400, "InvalidGrantException", "codeVerifier does not match the code challenge");
    grant.used = true;
    const client = this.clients.get(clientId)!;
    return this.issueTokens({ clientId, scopes: grant.scopes.length > 0 ? grant.scopes : client.scopes, ended: false });
  }

  /**
   * Refresh tokens rotate: the one presented stops working once a new one is issued. Without
   * rotation the answer carries no refresh token and the presented one stays valid.
   */
  private refreshGrant(clientId: string, refreshToken: string | undefined): SandboxResponse {
    const session = refreshToken === undefined ? undefined : this.refreshTokens.get(refreshToken);
    if (!session || session.ended || session.clientId !== clientId) {
      return oidcError(400, "InvalidGrantException", "Invalid refresh token provided");
    }
    if (!this.rotateRefreshTokens) return this.issueTokens(session, false);
    this.refreshTokens.delete(refreshToken!);
    return this.issueTokens(session);
  }

  /** Refresh tokens come only with scopes, as in IAM Identity Center (`sso:account:access`). */
  private issueTokens(session: LoginSession, withRefreshToken = true): SandboxResponse {
    const ttl = this.ctx.accessTokenTtlSeconds;
    const accessToken = this.ctx.ledger.keep(newOpaque("aoa", 48));
    this.accessTokens.set(accessToken, { session, expiresAt: this.ctx.now() + ttl * 1000 });
    let refreshToken: string | undefined;
    if (withRefreshToken && session.scopes.length > 0) {
      refreshToken = this.ctx.ledger.keep(newOpaque("aor", 64));
      this.refreshTokens.set(refreshToken, session);
    }
    return jsonResponse(200, { accessToken, tokenType: "Bearer", expiresIn: ttl, ...(refreshToken ? { refreshToken } : {}) });
  }
}

/**
 * RFC 8252 §7.3: for a loopback IP redirect URI the port is chosen at login time, so it is not
 * part of the match. Anything else must match exactly.
 */
function sameRedirect(registered: string, asked: string): boolean {
  if (registered === asked) return true;
  try {
    const r = new URL(registered);
    const a = new URL(asked);
    return r.protocol === "http:" && r.hostname === "127.0.0.1" && a.hostname === "127.0.0.1" && r.pathname === a.pathname && a.search === "";
  } catch {
    return false;
  }
}
