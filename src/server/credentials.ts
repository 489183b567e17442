import type { Socket } from "node:net";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { bodyOf } from "./credential-body.js";
import type { Session } from "../types.js";
import { errorBody, MALFORMED, METHOD_NOT_ALLOWED, NOT_FOUND, rateLimited, REQUEST_REFUSED, toHttp, UNAUTHORIZED, type HttpError } from "./errors.js";
import { isProfileName } from "./profile-name.js";
import { enforceHeaderDeadline } from "./header-deadline.js";
import { guardConnections, LISTEN_BACKLOG, type ConnectionGuardOptions } from "./connection-guard.js";
import { RefusalLimiter, type RefusalLimiterOptions } from "./ratelimit.js";

/** Where credentials come from (the broker); throws S3jitError subclasses to refuse. */
export interface CredentialSource {
  credentials(profile: string): Promise<Session>;
}

export interface Peer {
  address: string;
  port: number;
}

export interface EndpointEvents {
  served?(profile: string, session: Session, peer: Peer): void;
  /** `profile` is null when the request named no well-formed profile. */
  refused?(profile: string | null, code: string, peer: Peer): void;
}

export interface CredentialsServerDeps {
  source: CredentialSource;
  tokens: { verify(profile: string, token: string): boolean };
  /** 0 picks a free port. */
  port: number;
  events?: EndpointEvents;
  logger?: Logger;
  rateLimit?: RefusalLimiterOptions;
  connections?: ConnectionGuardOptions;
}

export interface CredentialsServer {
  port: number;
  url(profile: string): string;
  close(): Promise<void>;
}

type Serializer = (payload: unknown) => string;
// A serializer set on the reply keeps fastify from appending "; charset=utf-8" to the
// Content-Type: the header is exactly application/json, as DESIGN.md §2 pins it.
const asIs: Serializer = (payload) => payload as string;

/** Methods answered 405 on the credentials path; HEAD too, since it would run the whole GET. */
const OTHER_METHODS = ["DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

// Slow clients are cut off within seconds by enforceHeaderDeadline (its sweep runs only while
// connections are open); Node's own headersTimeout, checked every 30 s, stays as a backstop.
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
// An SDK request carries a few hundred bytes of headers and no body.
const MAX_HEADER_BYTES = 4096;
const MAX_CONNECTIONS = 1024;
const SLASH = 0x2f;

/**
 * How many Host headers the request carried. Node keeps only the first in `headers`; counting in
 * rawHeaders (names at even indices) allocates nothing, where `headersDistinct` builds an object
 * of arrays of every header on each request.
 */
function hostCount(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === "host") n++;
  }
  return n;
}

/** An error's code for the log only when it looks like one (EPIPE, KeychainUnavailable), never free text. */
function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code) ? code : undefined;
}

function peerOf(socket: Socket): Peer {
  return { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
}

/**
 * The loopback credentials endpoint: its own fastify instance, 127.0.0.1 only. Cheap checks run
 * first, so a flood of refused requests costs little; only a request with its profile's token
 * reaches the credential source.
 */
export async function createCredentialsServer(deps: CredentialsServerDeps): Promise<CredentialsServer> {
  const { source, tokens, events, logger } = deps;
  const limiter = new RefusalLimiter(deps.rateLimit);
  // Known after listen (port 0 picks one); a DNS-rebinding page sends its own name as Host.
  let hostIp = "";
  let hostName = "";

  // The session last handed out on each connection: an SDK re-fetching over a kept-alive
  // connection is the same hand-out, so the served event (an audit line) fires once per session
  // and connection, and a cached hit on a kept-alive connection does no audit work at all.
  const servedOn = new WeakMap<Socket, Session>();

  function send(reply: FastifyReply, e: HttpError): FastifyReply {
    reply.code(e.status).header("content-type", "application/json").header("cache-control", "no-store");
    if (e.retryAfter !== undefined) reply.header("retry-after", String(e.retryAfter));
    if (e.status === 405) reply.header("allow", "GET");
    return reply.serializer(asIs).send(JSON.stringify(errorBody(e)));
  }

  // A listener's failure must not change the answer; its text may quote a session, so only the type is logged.
  function listenerFailed(err: unknown): void {
    logger?.error({ error: (err as Error)?.name }, "credentials endpoint: event listener failed");
  }

  function notifyRefused(profile: string | null, code: string, socket: Socket): void {
    if (!events?.refused) return;
    try {
      events.refused(profile, code, peerOf(socket));
    } catch (err) {
      listenerFailed(err);
    }
  }

  /** A refusal made before the token was checked: counted, and turned into 429 during a flood. */
  function refuse(req: FastifyRequest, reply: FastifyReply, e: HttpError, profile: string): FastifyReply {
    const verdict = limiter.refuse();
    guard.refused(req.socket);
    const named = isProfileName(profile) ? profile : null;
    if (!verdict.limited) {
      notifyRefused(named, e.code, req.socket);
      return send(reply, e);
    }
    // One audit line when the lockout starts, not one per request of the flood.
    if (verdict.started) notifyRefused(named, "RateLimited", req.socket);
    return send(reply, rateLimited(verdict.retryAfterSeconds));
  }

  function serve(req: FastifyRequest, reply: FastifyReply, profile: string, session: Session): void {
    reply.header("content-type", "application/json").header("cache-control", "no-store").send(bodyOf(session));
    const socket = req.socket;
    if (servedOn.get(socket) === session || !events?.served) return;
    servedOn.set(socket, session);
    try {
      events.served(profile, session, peerOf(socket));
    } catch (err) {
      listenerFailed(err);
    }
  }

  function fail(req: FastifyRequest, reply: FastifyReply, profile: string, err: unknown): void {
    const e = toHttp(err);
    if (e.status === 500) logger?.error({ error: (err as Error | null)?.name, code: errnoCode(err) }, "credentials endpoint: unexpected error");
    // A mint still under way is not a refusal; everything else is worth an audit line.
    if (e.code !== "MintPending") notifyRefused(profile, e.code, req.socket);
    send(reply, e);
  }

  const app = Fastify({
    logger: false,
    bodyLimit: 1024,
    connectionTimeout: IDLE_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    exposeHeadRoutes: false,
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
    // A bad percent-encoding or an overlong parameter: malformed, and counted like other refusals.
    frameworkErrors: (_err, req, reply) => refuse(req, reply, MALFORMED, ""),
  });
  app.server.maxConnections = MAX_CONNECTIONS;
  enforceHeaderDeadline(app.server, HEADERS_TIMEOUT_MS);
  const guard = guardConnections(app.server, deps.connections);

  app.setErrorHandler((err, _req, reply) => send(reply, toHttp(err)));
  app.setNotFoundHandler((_req, reply) => send(reply, NOT_FOUND));

  // Query strings are tolerated (routing ignores them); no SDK sends one and none changes the answer.
  // A plain (not async) handler: the checks run synchronously, and the one promise is the source's.
  app.get<{ Params: { profile: string } }>("/v1/credentials/:profile", (req, reply) => {
    const h = req.headers;
    const profile = req.params.profile;
    if (h.host !== hostIp && h.host !== hostName) return void refuse(req, reply, REQUEST_REFUSED, profile);
    // Node keeps only the first of two Host headers, and an absolute-form target
    // (`GET http://evil.example/…`) names an authority that RFC 9112 puts before Host: refuse
    // both rather than guess which name the client meant.
    if (req.raw.url?.charCodeAt(0) !== SLASH || hostCount(req.raw.rawHeaders) !== 1) return void refuse(req, reply, REQUEST_REFUSED, profile);
    // Browsers always send Sec-Fetch-Site (and Origin on cross-origin requests); proxies add
    // X-Forwarded-For. Sec-Fetch-Mode alone is Node's own fetch, an SDK's legitimate client.
    if (h.origin !== undefined || h["sec-fetch-site"] !== undefined || h["x-forwarded-for"] !== undefined) {
      return void refuse(req, reply, REQUEST_REFUSED, profile);
    }
    if (!isProfileName(profile)) return void refuse(req, reply, MALFORMED, profile);
    // Missing, wrong, another profile's, or an unknown profile: one answer for all (no oracle).
    if (!tokens.verify(profile, h.authorization ?? "")) return void refuse(req, reply, UNAUTHORIZED, profile);
    guard.trust(req.socket);
    // The broker decides (window open, never past its end, cached or minted); a throw is a refusal.
    source.credentials(profile).then(
      (session) => serve(req, reply, profile, session),
      (err: unknown) => fail(req, reply, profile, err),
    );
  });

  app.route({
    method: OTHER_METHODS,
    url: "/v1/credentials/:profile",
    // onRequest answers before any body is read or parsed.
    onRequest: async (_req, reply) => send(reply, METHOD_NOT_ALLOWED),
    handler: async () => undefined,
  });

  await app.listen({ host: "127.0.0.1", port: deps.port, backlog: LISTEN_BACKLOG });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("the credentials endpoint has no TCP address");
  const port = address.port;
  hostIp = `127.0.0.1:${port}`;
  hostName = `localhost:${port}`;

  return {
    port,
    // The literal 127.0.0.1: some SDKs accept no other spelling of loopback.
    url: (profile) => `http://127.0.0.1:${port}/v1/credentials/${profile}`,
    close: async () => {
      await app.close();
    },
  };
}
