import http, { type IncomingMessage, type OutgoingHttpHeader, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "pino";
import { jsonHeaders, responseOf, type PreparedResponse } from "./credential-body.js";
import type { Session } from "../types.js";
import { errnoCode, errorBody, MALFORMED, METHOD_NOT_ALLOWED, NOT_FOUND, rateLimited, REQUEST_REFUSED, toHttp, UNAUTHORIZED, type HttpError } from "./errors.js";
import { isProfileName } from "./profile-name.js";
import { enforceHeaderDeadline } from "./header-deadline.js";
import { guardConnections, LISTEN_BACKLOG, type ConnectionGuardOptions } from "./connection-guard.js";
import { RefusalLimiter, type RefusalLimiterOptions } from "./ratelimit.js";
import { whenQuiet } from "./quiet.js";
import type { Timers } from "../clock.js";

/**
 * Where credentials come from (the broker): a session to serve now, or a promise of one (a mint
 * under way). Refuses by throwing, or rejecting, with S3jitError subclasses.
 */
export interface CredentialSource {
  credentials(profile: string): Session | PromiseLike<Session>;
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
  /** Called once each time the endpoint goes quiet: no connection open for QUIET_MS after its last one closed. */
  onQuiet?: () => void;
  /** Where the quiet period is timed (tests use manual timers). */
  timers?: Timers;
}

export interface CredentialsServer {
  port: number;
  url(profile: string): string;
  close(): Promise<void>;
}

// Slow clients are cut off within seconds by enforceHeaderDeadline (its sweep runs only while
// connections are open); Node's own headersTimeout, checked every 30 s, stays as a backstop.
// There is no socket inactivity timeout: the header deadline already closes every connection
// that has not sent its next request head 5 s after its last answer (whether or not the client
// reads that answer), and a request being answered waits at most the broker's 800 ms. Node's
// inactivity timer was re-armed on every read and write of every cached hit, for nothing.
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
// An SDK request carries a few hundred bytes of headers and no body.
const MAX_HEADER_BYTES = 4096;
const MAX_CONNECTIONS = 1024;
// Counted from the last connection's close, which the header deadline makes at most 5 s after its
// last answer: a load that pauses between requests keeps its connections and never looks quiet.
const QUIET_MS = 5_000;
const SLASH = 0x2f;
const PREFIX = "/v1/credentials/";
/** `http://host/path`: an absolute-form request target (RFC 9112 §3.2.2). */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/;

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

function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown }).then === "function";
}

function peerOf(socket: Socket): Peer {
  return { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
}

/** The answers the endpoint gives again and again (401, 403, 404…), built once each. */
const errorResponses = new WeakMap<HttpError, PreparedResponse>();
function errorResponse(e: HttpError): PreparedResponse {
  let prepared = errorResponses.get(e);
  if (prepared === undefined) {
    const body = Buffer.from(JSON.stringify(errorBody(e)));
    const extra = [...(e.retryAfter !== undefined ? ["retry-after", String(e.retryAfter)] : []), ...(e.status === 405 ? ["allow", "GET"] : [])];
    prepared = { headers: jsonHeaders(body, extra), body };
    errorResponses.set(e, prepared);
  }
  return prepared;
}

/**
 * Where a request goes: the credentials route's (still encoded) profile segment, or NOT_FOUND.
 * An absolute-form target is routed by its path and marked, so the GET's checks refuse it.
 */
function route(url: string): { segment: string; absolute: boolean } | undefined {
  let path = url;
  let absolute = false;
  if (url.charCodeAt(0) !== SLASH) {
    const m = ABSOLUTE_FORM.exec(url);
    if (m === null) return undefined;
    path = url.slice(m[0].length);
    absolute = true;
  }
  if (!path.startsWith(PREFIX)) return undefined;
  // Query strings are tolerated (no SDK sends one, and none changes the answer).
  const query = path.indexOf("?", PREFIX.length);
  const segment = query < 0 ? path.slice(PREFIX.length) : path.slice(PREFIX.length, query);
  if (segment.includes("/")) return undefined;
  return { segment, absolute };
}

/**
 * The loopback credentials endpoint: a plain node:http server on 127.0.0.1 only (one route, no
 * framework: the cached path is the whole point of it). Cheap checks run first, so a flood of
 * refused requests costs little; only a request with its profile's token reaches the credential
 * source.
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
  function refuse(req: IncomingMessage, res: ServerResponse, e: HttpError, profile: string): void {
    const verdict = limiter.refuse();
    guard.refused(req.socket);
    const named = isProfileName(profile) ? profile : null;
    if (!verdict.limited) {
      notifyRefused(named, e.code, req.socket);
      return write(res, e.status, errorResponse(e));
    }
    // One audit line when the lockout starts, not one per request of the flood.
    if (verdict.started) notifyRefused(named, "RateLimited", req.socket);
    const limited = rateLimited(verdict.retryAfterSeconds);
    write(res, limited.status, errorResponse(limited));
  }

  function serve(socket: Socket, res: ServerResponse, profile: string, session: Session): void {
    write(res, 200, responseOf(session));
    if (servedOn.get(socket) === session || !events?.served) return;
    servedOn.set(socket, session);
    try {
      events.served(profile, session, peerOf(socket));
    } catch (err) {
      listenerFailed(err);
    }
  }

  function fail(socket: Socket, res: ServerResponse, profile: string, err: unknown): void {
    const e = toHttp(err);
    if (e.status === 500) logger?.error({ error: (err as Error | null)?.name, code: errnoCode(err) }, "credentials endpoint: unexpected error");
    // A mint still under way is not a refusal; everything else is worth an audit line.
    if (e.code !== "MintPending") notifyRefused(profile, e.code, socket);
    write(res, e.status, errorResponse(e));
  }

  function credentials(req: IncomingMessage, res: ServerResponse, segment: string, absolute: boolean): void {
    let profile = segment;
    if (segment.includes("%")) {
      try {
        profile = decodeURIComponent(segment);
      } catch {
        return refuse(req, res, MALFORMED, "");
      }
    }
    const h = req.headers;
    if (h.host !== hostIp && h.host !== hostName) return refuse(req, res, REQUEST_REFUSED, profile);
    // Node keeps only the first of two Host headers, and an absolute-form target
    // (`GET http://evil.example/…`) names an authority that RFC 9112 puts before Host: refuse
    // both rather than guess which name the client meant.
    if (absolute || hostCount(req.rawHeaders) !== 1) return refuse(req, res, REQUEST_REFUSED, profile);
    // Browsers always send Sec-Fetch-Site (and Origin on cross-origin requests); proxies add
    // X-Forwarded-For. Sec-Fetch-Mode alone is Node's own fetch, an SDK's legitimate client.
    if (h.origin !== undefined || h["sec-fetch-site"] !== undefined || h["x-forwarded-for"] !== undefined) {
      return refuse(req, res, REQUEST_REFUSED, profile);
    }
    if (!isProfileName(profile)) return refuse(req, res, MALFORMED, profile);
    // Missing, wrong, another profile's, or an unknown profile: one answer for all (no oracle).
    if (!tokens.verify(profile, h.authorization ?? "")) return refuse(req, res, UNAUTHORIZED, profile);
    const socket = req.socket;
    guard.trust(socket);
    // The broker decides (window open, never past its end, cached or minted); a throw is a refusal.
    // A cached session comes back as is and is answered in this tick.
    let answer: Session | PromiseLike<Session>;
    try {
      answer = source.credentials(profile);
    } catch (err) {
      return fail(socket, res, profile, err);
    }
    if (isPromiseLike(answer)) {
      answer.then(
        (session) => serve(socket, res, profile, session),
        (err: unknown) => fail(socket, res, profile, err),
      );
    } else {
      serve(socket, res, profile, answer);
    }
  }

  /** Every answer goes out here; the connection's next request head is due from now on. */
  function write(res: ServerResponse, status: number, prepared: PreparedResponse): void {
    res.writeHead(status, prepared.headers as OutgoingHttpHeader[]);
    res.end(prepared.body);
    deadline.answered(res.req.socket);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    deadline.answering(req.socket);
    try {
      // Node sets url on every request a server receives (it is optional only on client responses).
      const target = route(req.url!);
      if (target === undefined) return write(res, 404, errorResponse(NOT_FOUND));
      // HEAD too: it would run the whole GET. Answered before any body is read.
      if (req.method !== "GET") return write(res, 405, errorResponse(METHOD_NOT_ALLOWED));
      credentials(req, res, target.segment, target.absolute);
    } catch (err) {
      logger?.error({ error: (err as Error | null)?.name, code: errnoCode(err) }, "credentials endpoint: unexpected error");
      if (!res.headersSent) write(res, 500, errorResponse(toHttp(err)));
    }
  }

  const server = http.createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    handle,
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  const deadline = enforceHeaderDeadline(server, HEADERS_TIMEOUT_MS);
  const guard = guardConnections(server, deps.connections);
  if (deps.onQuiet) whenQuiet(server, QUIET_MS, deps.onQuiet, { timers: deps.timers, onError: (err) => logger?.error({ error: (err as Error | null)?.name }, "credentials endpoint: quiet-time work failed") });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: deps.port, backlog: LISTEN_BACKLOG }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // A TCP listen always has an AddressInfo (a string is a pipe's, null a closed server's).
  const { port } = server.address() as AddressInfo;
  hostIp = `127.0.0.1:${port}`;
  hostName = `localhost:${port}`;

  return {
    port,
    // The literal 127.0.0.1: some SDKs accept no other spelling of loopback.
    url: (profile) => `http://127.0.0.1:${port}/v1/credentials/${profile}`,
    // Idle kept-alive connections close now; a request being answered gets its answer first.
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err?: NodeJS.ErrnoException) => (err && err.code !== "ERR_SERVER_NOT_RUNNING" ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
