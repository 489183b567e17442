import net from "node:net";
import { startStack, type Stack, type StackOptions } from "../helpers/stack.js";

/**
 * The hardening suites' one raw-socket helper: requests written verbatim, SDK-shaped requests,
 * slow and idle connections, all against the real daemon's endpoint on 127.0.0.1.
 */

/** One HTTP response as read off the wire, headers lower-cased. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server wrote (several responses when pipelining). */
  raw: string;
}

/**
 * Writes `request` verbatim on a fresh TCP connection and reads until the server closes it (or
 * `timeoutMs` passes, then whatever arrived). No HTTP client in between: what is sent is exactly
 * what an attacker can send.
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 10_000, opts: { halfClose?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // A server that resets after answering still answered.
      if (chunks.length === 0 && err.code !== "ECONNRESET") reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks).toString("latin1")));
    });
    // Half-closing after the request is what most raw attackers do; a pipelining client keeps its
    // side open until the answers are in (Node answers only the first request of a half-closed socket).
    socket.on("connect", () => (opts.halfClose === false ? socket.write(request) : socket.end(request)));
  });
}

export function parseResponse(raw: string): RawResponse {
  const headEnd = raw.indexOf("\r\n\r\n");
  const head = headEnd >= 0 ? raw.slice(0, headEnd) : raw;
  const lines = head.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = headEnd >= 0 ? raw.slice(headEnd + 4) : "";
  if (headers["content-length"] !== undefined) body = body.slice(0, Number(headers["content-length"]));
  return { status, headers, body, raw };
}

/** The parts of a request; null leaves a header out. */
export interface RequestParts {
  path: string;
  host?: string | null;
  token?: string | null;
  extra?: string[];
  version?: string;
  method?: string;
}

/** A well-formed SDK request, with every part replaceable. */
export function getRequest(o: RequestParts): string {
  const lines = [`${o.method ?? "GET"} ${o.path} HTTP/${o.version ?? "1.1"}`];
  if (o.host !== null && o.host !== undefined) lines.push(`Host: ${o.host}`);
  if (o.token !== null && o.token !== undefined) lines.push(`Authorization: ${o.token}`);
  lines.push(...(o.extra ?? []), "Connection: close", "", "");
  return lines.join("\r\n");
}

export interface Endpoint {
  port: number;
  url: string;
  token: string;
}

/** `audit`'s credentials request to `ep` as an SDK sends it (Host and token right), with any part replaced. */
export function sdkRequest(ep: Endpoint, o: Partial<RequestParts> = {}): string {
  return getRequest({ path: "/v1/credentials/audit", host: `127.0.0.1:${ep.port}`, token: ep.token, ...o });
}

/**
 * Sends sdkRequest(ep) without half-closing, as SDKs do: Node drops a request whose client sent
 * FIN before a slow answer, which a test of slow answers must not mistake for a refusal.
 */
export function sdkGet(ep: Endpoint, timeoutMs = 10_000): Promise<RawResponse> {
  return rawRequest(ep.port, sdkRequest(ep), timeoutMs, { halfClose: false });
}

export async function endpointOf(stack: Stack, profile: string): Promise<Endpoint> {
  const env = await stack.clientEnv(profile);
  const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
  return { port: Number(new URL(url).port), url, token: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! };
}

/** For pacing and deliberate real-time gaps only: never to wait for something to have happened. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real daemon (startStack), logged in, with `audit`'s window open and served. */
export async function grantedStack(opts: StackOptions = {}): Promise<{ stack: Stack; ep: Endpoint }> {
  const stack = await startStack(opts);
  return { stack, ep: await loginAndGrant(stack, "audit") };
}

/** Log in, open a window and wait until the endpoint serves (the first mint may answer 503). */
export async function loginAndGrant(stack: Stack, profile: string): Promise<Endpoint> {
  const login = await stack.cli(["login", "--no-browser"]);
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  const grant = await stack.cli(["grant", profile, "--for", "30m", "--reason", "hardening test"]);
  if (grant.code !== 0) throw new Error(`grant failed: ${grant.stderr}`);
  const ep = await endpointOf(stack, profile);
  await waitFor200(ep, `/v1/credentials/${profile}`);
  return ep;
}

/** Asks until a 200; the deadline only fails a hung run (the first mint may answer 503 for a while). */
export async function waitFor200(ep: Endpoint, path: string, timeoutMs = 60_000): Promise<RawResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await rawRequest(ep.port, sdkRequest(ep, { path }));
    if (r.status === 200) return r;
    if (Date.now() > deadline) throw new Error(`no 200 within ${timeoutMs} ms: last ${r.status} ${r.body}`);
    // Pacing, as an SDK's backoff would.
    await sleep(200);
  }
}

/**
 * Connects, writes `prefix` and then, with `trickle`, one more header byte a second (slowloris):
 * who closed the connection, and what the server answered. Gives up after `maxMs` (then
 * `closedByServer` is false).
 */
export function slowHeaders(port: number, prefix: string, maxMs: number, trickle = true): Promise<{ closedByServer: boolean; closedAfterMs: number; answer: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const started = Date.now();
    let answer = "";
    let timer: NodeJS.Timeout | undefined;
    let gaveUp = false;
    const stop = setTimeout(() => {
      gaveUp = true;
      socket.destroy();
    }, maxMs);
    socket.on("connect", () => {
      if (prefix !== "") socket.write(prefix);
      if (trickle) timer = setInterval(() => socket.write("X"), 1000);
    });
    socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      clearTimeout(stop);
      resolve({ closedByServer: !gaveUp, closedAfterMs: Date.now() - started, answer });
    });
  });
}

/** Idle connections held open, and how many of them the server has closed so far. */
export interface IdleConnections {
  closedByServer(): number;
  destroy(): void;
}

/** Opens `count` connections that say nothing, `batch` at a time (each batch connected before the next). */
export async function openIdle(port: number, count: number, batch = 100): Promise<IdleConnections> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.on("close", () => closed++);
      s.on("connect", () => resolve());
      s.on("error", () => resolve());
      sockets.push(s);
    });
  for (let i = 0; i < count; i += batch) await Promise.all(Array.from({ length: Math.min(batch, count - i) }, open));
  return { closedByServer: () => closed, destroy: () => sockets.forEach((s) => s.destroy()) };
}

/**
 * Raw bytes on one socket, for what http.request will not send (HTTP/1.0 without Host,
 * pipelining, absolute-form targets). Resolves with what came once `until` holds (or the server
 * closed); the socket goes then.
 */
export function rawUntil(port: number, bytes: string, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let text = "";
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      text += d;
      if (until(text)) {
        sock.destroy();
        resolve(text);
      }
    });
    sock.on("close", () => resolve(text));
    sock.on("error", reject);
    sock.write(bytes);
  });
}
