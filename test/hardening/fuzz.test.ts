import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Stack } from "../helpers/stack.js";
import { grantedStack, rawRequest, sdkRequest, type Endpoint } from "./raw.js";

/**
 * Bounded fuzz of the credentials endpoint on the real daemon: random bytes and mutated valid
 * requests, a few sockets at a time. Afterwards the daemon must still serve, and neither its audit
 * log nor its own output may hold an issued AWS secret or an endpoint token (the fuzz sends the
 * right token inside many of its mutants).
 */

const MAX_ITERATIONS = 2_000;
const MAX_MS = 25_000;
const PARALLEL = 4;
// Printed so a failing run can be replayed: S3JIT_FUZZ_SEED=<n>.
const SEED = Number(process.env.S3JIT_FUZZ_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [
  "\r\n", "\r", "\n", "\0", " ", ":", "%", "%2F", "%00", "..", "/", "?", "#", "\t", "\xff", "Transfer-Encoding: chunked\r\n",
  "Content-Length: 99999999999\r\n", "Content-Length: -1\r\n", "Host: evil.example\r\n", "Origin: null\r\n", "Expect: 100-continue\r\n",
  "Connection: keep-alive\r\n", "Upgrade: websocket\r\n", "HTTP/1.0", "HTTP/9.9", "GET", "POST", "A".repeat(5000),
];

function mutate(base: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(base);
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 7)) {
      case 0: // flip a bit
        if (b.length) b[at % b.length]! ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // replace a byte with any byte
        if (b.length) b[at % b.length] = Math.floor(rnd() * 256);
        break;
      case 2: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(rnd() * 16))]);
        break;
      case 3: // insert something a parser may trip on
        b = Buffer.concat([b.subarray(0, at), Buffer.from(INTERESTING[Math.floor(rnd() * INTERESTING.length)]!, "latin1"), b.subarray(at)]);
        break;
      case 4: // duplicate a slice (repeated headers, pipelined halves)
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.floor(rnd() * b.length), at), b.subarray(at)]);
        break;
      case 5: // truncate
        b = b.subarray(0, at);
        break;
      default: // random bytes in the middle
        b = Buffer.concat([b.subarray(0, at), randomBuffer(rnd, 1 + Math.floor(rnd() * 32)), b.subarray(at)]);
    }
  }
  return b;
}

function randomBuffer(rnd: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

describe(`fuzzing the credentials endpoint (seed ${SEED})`, () => {
  let stack: Stack;
  let ep: Endpoint;
  beforeAll(async () => {
    ({ stack, ep } = await grantedStack());
  }, 60_000);
  afterAll(() => stack?.close());

  it("survives the fuzz, still serves, and logs no secret", async () => {
    const rnd = prng(SEED);
    const seeds = [
      sdkRequest(ep),
      sdkRequest(ep, { method: "POST", extra: ["Content-Length: 2"] }) + "{}",
      sdkRequest(ep, { host: null, version: "1.0" }),
      sdkRequest(ep, { path: "/v1/credentials/audit?x=1", token: "wrong" }),
    ].map((s) => Buffer.from(s, "latin1"));

    const statuses = new Map<number, number>();
    let iterations = 0;
    const started = Date.now();
    const next = (): Buffer | undefined => {
      if (iterations >= MAX_ITERATIONS || Date.now() - started > MAX_MS) return undefined;
      iterations++;
      // One in five is pure noise; the rest are valid requests bent a little, which reach deeper.
      return rnd() < 0.2 ? randomBuffer(rnd, 1 + Math.floor(rnd() * 2048)) : mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd);
    };
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let payload = next(); payload; payload = next()) {
          // A request that never completes is closed by the daemon's header timeout (5 s).
          const r = await rawRequest(ep.port, payload, 12_000).catch(() => ({ status: -1 }));
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    const elapsed = Date.now() - started;
    console.log(`fuzz: seed ${SEED}, ${iterations} iterations in ${elapsed} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(iterations).toBeGreaterThan(200);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(stack.daemon!.exitCode).toBeNull();

    // Right after the flood (which may have locked refusals into 429), a valid request is served.
    const ok = await rawRequest(ep.port, sdkRequest(ep));
    expect(ok.status).toBe(200);

    // SIGTERM flushes the audit log; then every line must parse and none may hold a secret.
    expect(await stack.stopDaemon("SIGTERM")).toBe(0);
    const auditLog = readFileSync(path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"), "utf8");
    const lines = auditLog.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
    const secrets = [...stack.sandbox.issuedSecrets(), ep.token];
    expect(stack.sandbox.issuedSecrets().length).toBeGreaterThan(0);
    for (const s of secrets) {
      expect(auditLog.includes(s), "a secret in the audit log").toBe(false);
      expect(stack.daemonLog().includes(s), "a secret in the daemon's output").toBe(false);
    }
  }, 90_000);
});
