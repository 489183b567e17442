import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Stack } from "../helpers/stack.js";
import { grantedStack, sleep, type Endpoint } from "./raw.js";

/**
 * Load on the real daemon: many concurrent keep-alive connections, each sending one request after
 * another for a while, every other one valid and the rest refusals of every kind (which lock the
 * refused-request limiter into 429 for most of the run: the limiter answers 429 only to requests
 * that fail verification, so the valid half must still be 200). No valid request may fail, the
 * daemon's RSS stays bounded, and every audit line is JSON.
 * CI size: 200 connections for 10 s. S3JIT_LOAD_FULL=1: issue 9's 1,000 connections for 60 s.
 */

const FULL = process.env.S3JIT_LOAD_FULL === "1";
const CONNECTIONS = FULL ? 1_000 : 200;
const DURATION_MS = FULL ? 60_000 : 10_000;
// Generous for a shared 2-core machine; the daemon idles near 60-80 MiB.
const RSS_LIMIT_KIB = 200 * 1024;
const P = "/v1/credentials/audit";

type Kind = "valid" | "wrong-token" | "no-token" | "bad-host" | "origin" | "bad-path" | "other-profile" | "post";
const INVALID: Kind[] = ["wrong-token", "no-token", "bad-host", "origin", "bad-path", "other-profile", "post"];

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

function request(agent: http.Agent, ep: Endpoint, kind: Kind): Promise<{ status: number; body: string }> {
  const host = kind === "bad-host" ? "evil.example" : `127.0.0.1:${ep.port}`;
  const headers: Record<string, string> = { host };
  if (kind !== "no-token") headers.authorization = kind === "wrong-token" ? "x".repeat(ep.token.length) : ep.token;
  if (kind === "origin") headers.origin = "http://evil.example";
  const p = kind === "bad-path" ? "/v1/credentials/..%2Fetc" : kind === "other-profile" ? "/v1/credentials/other" : P;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: ep.port, path: p, method: kind === "post" ? "POST" : "GET", headers, agent, timeout: 20_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("client timeout")));
    req.on("error", reject);
    req.end(kind === "post" ? "{}" : undefined);
  });
}

describe(`load: ${CONNECTIONS} concurrent connections for ${DURATION_MS / 1000} s (real daemon)`, () => {
  let stack: Stack;
  let ep: Endpoint;

  beforeAll(async () => {
    ({ stack, ep } = await grantedStack());
  }, 60_000);
  afterAll(() => stack?.close());

  it("serves every valid request, keeps RSS bounded and the audit log well-formed", async () => {
    const pid = stack.daemon!.pid!;
    // The token holder's connections and the refused ones are apart, as an SDK's are from a
    // neighbour's: a kept-alive connection that only ever gets refusals is cut by the connection
    // guard (issue 15: it is how another user holds sockets), so a valid request must not ride on
    // one. Each side gets half the connections.
    const agents = [true, false].map(() => new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS / 2, maxFreeSockets: CONNECTIONS / 2 }));
    const counts = new Map<string, number>();
    const validFailures: string[] = [];
    const invalidOddities: string[] = [];
    const rss: number[] = [rssKiB(pid)];
    const sampler = setInterval(() => rss.push(rssKiB(pid)), 1000);
    const deadline = Date.now() + DURATION_MS;
    let invalidTurn = 0;
    let cut = 0;

    // Half the workers valid, the other half cycling through every kind of refusal.
    const worker = async (w: number) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const kind: Kind = w % 2 === 0 ? "valid" : INVALID[invalidTurn++ % INVALID.length]!;
        try {
          const r = await request(agents[w % 2]!, ep, kind);
          counts.set(`${kind} ${r.status}`, (counts.get(`${kind} ${r.status}`) ?? 0) + 1);
          if (kind === "valid") {
            if (r.status !== 200 || !r.body.includes('"AccessKeyId":"ASIA')) validFailures.push(`${r.status} ${r.body.slice(0, 80)}`);
          } else if (![400, 401, 403, 404, 405, 429].includes(r.status)) invalidOddities.push(`${kind}: ${r.status}`);
        } catch (err) {
          const msg = `${kind}: ${(err as Error).message}`;
          if (kind === "valid") validFailures.push(msg);
          // A refused connection cut by the guard (reset, hang-up, or left unread until the
          // client gives up) is the guard at work, not an oddity.
          else cut++;
        }
      }
    };
    const started = Date.now();
    try {
      await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
    } finally {
      clearInterval(sampler);
      for (const a of agents) a.destroy();
    }
    const elapsed = (Date.now() - started) / 1000;
    // One more RSS sample after the run settles a moment: it only adds to the peak asserted below,
    // and the run's length is the load itself (reported, never asserted).
    await sleep(500);
    rss.push(rssKiB(pid));

    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const valid = [...counts].filter(([k]) => k.startsWith("valid ")).reduce((a, [, v]) => a + v, 0);
    const invalidByStatus: Record<string, number> = {};
    for (const [k, v] of counts) if (!k.startsWith("valid ")) invalidByStatus[k.split(" ")[1]!] = (invalidByStatus[k.split(" ")[1]!] ?? 0) + v;
    const summary = {
      connections: CONNECTIONS,
      seconds: Number(elapsed.toFixed(1)),
      requests: total,
      perSecond: Math.round(total / elapsed),
      valid,
      validFailures: validFailures.length,
      invalid: total - valid,
      invalidByStatus,
      invalidOddities: invalidOddities.length,
      invalidCutByGuard: cut,
      rssKiB: { start: rss[0], peak: Math.max(...rss), end: rss[rss.length - 1] },
      byKindAndStatus: Object.fromEntries([...counts].sort()),
    };
    console.log(`load: ${JSON.stringify(summary)}`);

    expect(validFailures.slice(0, 5), `${validFailures.length} valid requests failed`).toEqual([]);
    // A count, not a rate: each valid worker was served at least twice in the run on average (a
    // machine 10× slower still does hundreds per worker in 10 s).
    expect(valid).toBeGreaterThan(CONNECTIONS);
    // The flood really ran beside them: every refusing worker was answered (or cut) many times.
    expect(total - valid + cut).toBeGreaterThan(CONNECTIONS);
    // A refused request is never answered with credentials or a 5xx.
    expect(invalidOddities.slice(0, 5)).toEqual([]);
    expect(Math.max(...rss)).toBeLessThan(RSS_LIMIT_KIB);

    // Still serving, and the audit log is one JSON object per line.
    const again = await request(new http.Agent(), ep, "valid");
    expect(again.status).toBe(200);
    const audit = readFileSync(path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"), "utf8");
    const lines = audit.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l.slice(0, 120)).not.toThrow();
    expect(audit.endsWith("\n")).toBe(true);
  }, DURATION_MS + 120_000);
});
