import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Accounts, SandboxContext } from "./context.js";
import { FaultQueue, type Fault } from "./faults.js";
import { header, jsonResponse, restJsonError, type SandboxRequest, type SandboxResponse } from "./http.js";
import { CredentialRegistry } from "./iam.js";
import { S3Service, s3Action, s3Error, type S3Options, type S3Store } from "./s3.js";
import { SecretLedger } from "./secrets.js";
import { claimedAccessKeyId, parseAuthorization } from "./sigv4.js";
import { handleSso } from "./sso.js";
import { OidcService } from "./sso-oidc.js";
import { handleSts, stsError } from "./sts.js";

/**
 * A local AWS for tests and the demo: STS, SSO-OIDC, the SSO portal and S3 on one
 * loopback port, speaking the wire protocols of the real SDK v3 clients. Point clients at it with
 * `endpoint: sandbox.url` or AWS_ENDPOINT_URL_STS / _SSO / _SSO_OIDC.
 */

export interface SandboxOptions {
  /** Default 0 (any free port); binds 127.0.0.1 only. */
  port?: number;
  /** Sandbox clock in epoch ms (default Date.now); tests move it to age tokens and credentials. */
  now?: () => number;
  /** Device codes are approved on their first CreateToken poll. */
  autoApprove?: boolean;
  /** SSO access token life, default 8 h. */
  accessTokenTtlSeconds?: number;
  /** false: refresh answers carry no new refresh token and the old one stays valid (default true). */
  rotateRefreshTokens?: boolean;
  /** GetRoleCredentials life, default 1 h. */
  roleCredentialsTtlSeconds?: number;
  /** Default {"123456789012": {roles: ["S3JitBase"]}}. */
  accounts?: Accounts;
  /** S3 buckets and objects (default: audit-logs, reports, other-bucket; see s3-store.ts). */
  s3?: S3Options;
}

export type SandboxService = "sts" | "sso-oidc" | "sso" | "s3" | "sandbox";

export interface RecordedRequest {
  service: SandboxService;
  action: string;
  /** Decoded form fields, JSON body or query, secrets included: this is a test double. */
  params: Record<string, string | unknown>;
  accessKeyId?: string;
  /** Sandbox clock at arrival. */
  at: number;
  /** 0 while in flight or when the connection was reset. */
  status: number;
}

export type { Fault } from "./faults.js";

export interface Sandbox {
  url: string;
  port: number;
  /** Every request, in order of arrival. */
  requests: RecordedRequest[];
  count(action: string): number;
  /** Approves a pending device code (also POST /sandbox/approve {"userCode"}). Throws on unknown codes. */
  approve(userCode: string): void;
  approveAll(): void;
  /** Every secret ever issued: secret keys, session tokens, access/refresh tokens, client secrets, device and authorization codes. */
  issuedSecrets(): string[];
  /** The next `times` (default 1) calls of `action` fail, are delayed, or have their connection reset. */
  inject(fault: Fault): void;
  /**
   * The next call of `action` waits, its answer held (a slow network or a slow AWS without a
   * clock): `arrived` resolves when it comes in, `release()` lets it be answered (a fault armed for
   * it still applies). Holds queue up, one call each.
   */
  hold(action: string): Held;
  /** The session policy the credentials with this access key id were minted with. */
  sessionPolicy(accessKeyId: string): string | undefined;
  /** The S3 buckets and objects, to seed more or to check what a request changed. */
  s3: S3Store;
  close(): Promise<void>;
}

/** A held call: see Sandbox.hold. */
export interface Held {
  arrived: Promise<RecordedRequest>;
  release(): void;
}

interface Route {
  service: SandboxService;
  action: string;
  params: Record<string, unknown>;
}

const OIDC_ROUTES: Record<string, string> = {
  "POST /client/register": "RegisterClient",
  "POST /device_authorization": "StartDeviceAuthorization",
  "POST /token": "CreateToken",
  "GET /authorize": "Authorize",
};

const SSO_ROUTES: Record<string, string> = {
  "GET /federation/credentials": "GetRoleCredentials",
  "GET /assignment/accounts": "ListAccounts",
  "GET /assignment/roles": "ListAccountRoles",
  "POST /logout": "Logout",
};

const SANDBOX_ROUTES: Record<string, string> = {
  "POST /sandbox/approve": "Approve",
  "POST /sandbox/approve-all": "ApproveAll",
  "POST /sandbox/deny": "Deny",
  "GET /sandbox/device": "Device",
  "POST /sandbox/inject": "Inject",
  "POST /sandbox/clock": "AdvanceClock",
  "GET /sandbox/requests": "Requests",
};

function jsonBody(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString("utf8") || "{}");
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function queryParams(req: SandboxRequest): Record<string, unknown> {
  return Object.fromEntries(req.query.entries());
}

/** Decides which service a request is for, from the signing scope, method, path and body. */
function route(req: SandboxRequest): Route {
  // A request signed for S3 is S3's whatever its path, so bucket names never collide with the
  // other services' paths.
  if (parseAuthorization(header(req, "authorization"))?.service === "s3") {
    return { service: "s3", action: s3Action(req), params: queryParams(req) };
  }
  const key = `${req.method} ${req.rawPath}`;
  const isForm = (header(req, "content-type") ?? "").startsWith("application/x-www-form-urlencoded");
  if (req.method === "POST" && req.rawPath === "/" && isForm) {
    const params = Object.fromEntries(new URLSearchParams(req.body.toString("utf8")).entries());
    return { service: "sts", action: params["Action"] ?? "Unknown", params };
  }
  const oidc = OIDC_ROUTES[key];
  if (oidc) return { service: "sso-oidc", action: oidc, params: req.method === "GET" ? queryParams(req) : jsonBody(req.body) };
  const sso = SSO_ROUTES[key];
  if (sso) return { service: "sso", action: sso, params: queryParams(req) };
  if (req.rawPath.startsWith("/sandbox/")) {
    return { service: "sandbox", action: SANDBOX_ROUTES[key] ?? "Unknown", params: req.method === "GET" ? queryParams(req) : jsonBody(req.body) };
  }
  return { service: "s3", action: s3Action(req), params: queryParams(req) };
}

function errorFor(service: SandboxService, status: number, code: string, message: string): SandboxResponse {
  switch (service) {
    case "sts":
      return stsError(status, code, message);
    case "s3":
      return s3Error(status, code, message);
    case "sso-oidc":
      return restJsonError(status, code, message, { error: code, error_description: message });
    default:
      return restJsonError(status, code, message);
  }
}

// What an injected fault answers when it names no code/status: each service's throttling error,
// which the SDKs retry.
const FAULT_DEFAULTS: Record<SandboxService, { status: number; code: string }> = {
  sts: { status: 400, code: "Throttling" },
  "sso-oidc": { status: 429, code: "TooManyRequestsException" },
  sso: { status: 429, code: "TooManyRequestsException" },
  s3: { status: 503, code: "SlowDown" },
  sandbox: { status: 500, code: "InternalError" },
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const baseNow = opts.now ?? Date.now;
  let clockOffsetMs = 0;
  let url = "";
  const ledger = new SecretLedger();
  const ctx: SandboxContext = {
    now: () => baseNow() + clockOffsetMs,
    url: () => url,
    ledger,
    registry: new CredentialRegistry(ledger),
    accounts: opts.accounts ?? { "123456789012": { roles: ["S3JitBase"] } },
    autoApprove: opts.autoApprove ?? false,
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 8 * 3600,
    roleCredentialsTtlSeconds: opts.roleCredentialsTtlSeconds ?? 3600,
  };
  const oidc = new OidcService(ctx, opts.rotateRefreshTokens ?? true);
  const s3 = new S3Service(ctx, opts.s3);
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const closing = new AbortController();
  const holds: Array<{ action: string; arrive: (r: RecordedRequest) => void; released: Promise<void> }> = [];

  function sandboxControl(action: string, params: Record<string, unknown>): SandboxResponse {
    const userCode = typeof params["userCode"] === "string" ? params["userCode"] : typeof params["user_code"] === "string" ? params["user_code"] : "";
    switch (action) {
      case "Approve":
      case "Deny":
      case "Device":
        if (!oidc.hasUserCode(userCode)) return restJsonError(404, "NotFound", "no device authorization with that user code");
        if (action === "Deny") oidc.deny(userCode);
        else oidc.approve(userCode);
        // GET verificationUriComplete is what a browser would open: the sandbox's "user" allows it.
        return action === "Device"
          ? { status: 200, headers: { "content-type": "text/plain" }, body: `Sandbox: device ${userCode} approved. You can close this page.\n` }
          : jsonResponse(200, { ok: true });
      case "ApproveAll":
        oidc.approveAll();
        return jsonResponse(200, { ok: true });
      case "Inject":
        try {
          faults.inject(params as unknown as Fault);
        } catch (err) {
          return restJsonError(400, "InvalidFault", (err as Error).message);
        }
        return jsonResponse(200, { ok: true });
      case "AdvanceClock": {
        const ms = params["advanceMs"];
        if (typeof ms !== "number" || !Number.isFinite(ms)) return restJsonError(400, "InvalidRequest", "advanceMs must be a number");
        clockOffsetMs += ms;
        return jsonResponse(200, { now: ctx.now() });
      }
      case "Requests":
        return jsonResponse(200, requests);
      default:
        return restJsonError(404, "NotFound", "unknown sandbox control");
    }
  }

  async function dispatch(r: Route, req: SandboxRequest): Promise<SandboxResponse> {
    switch (r.service) {
      case "sts":
        return handleSts(ctx, req, r.params as Record<string, string>);
      case "sso-oidc":
        return r.action === "Authorize" ? oidc.authorize(req.query) : oidc.handle(r.action, r.params);
      case "sso":
        return handleSso(ctx, oidc, r.action, req);
      case "s3":
        return s3.handle(req, r.action);
      default:
        return sandboxControl(r.action, r.params);
    }
  }

  async function serve(incoming: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(incoming.url ?? "/", "http://sandbox");
    const req: SandboxRequest = {
      method: incoming.method ?? "GET",
      rawPath: (incoming.url ?? "/").split("?")[0]!,
      query: url.searchParams,
      headers: incoming.headers,
      body: await readBody(incoming),
    };
    const r = route(req);
    const accessKeyId = claimedAccessKeyId(req);
    const record: RecordedRequest = { service: r.service, action: r.action, params: r.params, at: ctx.now(), status: 0, ...(accessKeyId ? { accessKeyId } : {}) };
    requests.push(record);

    const plan = r.service === "sandbox" ? undefined : faults.take(r.action);
    const held = r.service === "sandbox" ? -1 : holds.findIndex((h) => h.action === r.action);
    if (held >= 0) {
      const [hold] = holds.splice(held, 1);
      hold!.arrive(record);
      await Promise.race([hold!.released, new Promise((_, reject) => closing.signal.addEventListener("abort", reject, { once: true }))]);
    }
    // A delay fault is real time on purpose: it is for a client's own timeouts (the SDK's, the
    // daemon's request wait). A test that only needs "AWS has not answered yet" holds instead.
    if (plan && plan.delayMs > 0) await sleep(plan.delayMs, undefined, { signal: closing.signal });
    if (plan?.reset) {
      incoming.socket.destroy();
      return;
    }
    let response: SandboxResponse;
    if (plan?.error) {
      const defaults = FAULT_DEFAULTS[r.service];
      const code = plan.error.code ?? (plan.error.status !== undefined && plan.error.status >= 500 ? "InternalFailure" : defaults.code);
      const status = plan.error.status ?? (code === defaults.code ? defaults.status : 400);
      response = errorFor(r.service, status, code, plan.error.message ?? `Sandbox injected ${code}`);
    } else {
      try {
        response = await dispatch(r, req);
      } catch (err) {
        process.stderr.write(`sandbox: ${r.service} ${r.action} failed: ${(err as Error).stack ?? String(err)}\n`);
        response = errorFor(r.service, 500, "InternalFailure", "The sandbox failed to handle this request");
      }
    }
    record.status = response.status;
    if (res.destroyed) return;
    res.writeHead(response.status, { ...response.headers, "content-length": Buffer.byteLength(response.body) });
    res.end(req.method === "HEAD" ? undefined : response.body);
  }

  const server = createServer((incoming, res) => {
    serve(incoming, res).catch(() => {
      // Only an aborted delay (sandbox closing) or a vanished client gets here.
      if (!res.headersSent && !res.destroyed) res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    port,
    requests,
    count: (action) => requests.filter((r) => r.action === action).length,
    approve: (userCode) => oidc.approve(userCode),
    approveAll: () => oidc.approveAll(),
    issuedSecrets: () => ledger.list(),
    inject: (fault) => faults.inject(fault),
    hold: (action) => {
      let arrive!: (r: RecordedRequest) => void;
      let release!: () => void;
      const arrived = new Promise<RecordedRequest>((r) => (arrive = r));
      const released = new Promise<void>((r) => (release = r));
      holds.push({ action, arrive, released });
      return { arrived, release };
    },
    sessionPolicy: (accessKeyId) => ctx.registry.get(accessKeyId)?.policy,
    s3: s3.store,
    close: () => {
      // Idempotent: tests close in afterEach whatever a test already closed.
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
