/**
 * Issue 15's figures, measured once against a real daemon (loopback only, bounded in count and
 * time). Run as root, so the neighbour really is another uid (nobody, via setpriv):
 *
 *   npm run build && npx tsx scripts/neighbours/measure.ts [floodSeconds=60] [holdSeconds=30]
 *
 * 1. Flood: nobody sends wrong-token requests as fast as it can for `floodSeconds`; the audit
 *    log's growth is extrapolated to one hour and set against what rotation keeps.
 * 2. Hold: nobody holds 1,100 sockets (re-opening each one the daemon closes, a refused request
 *    on each every 2 s) for `holdSeconds`, while the user fetches with the token 20 times a second
 *    on new connections; the user's success rate and latency percentiles are printed.
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync, writeFileSync, chmodSync, rmSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { AUDIT_FILE_BYTES, AUDIT_FILES_KEPT } from "../../src/audit/audit.js";
import { startStack } from "../../test/helpers/stack.js";
import { endpointOf, loginAndGrant, waitFor200 } from "../../test/hardening/raw.js";

const run = promisify(execFile);
const floodSeconds = Number(process.argv[2] ?? 60);
const holdSeconds = Number(process.argv[3] ?? 30);

/** Runs `code` with node as uid/gid 65534; its stdout (one JSON line) is returned parsed. */
async function asNobody(code: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const file = `/tmp/s3jit-neighbour-${process.pid}.cjs`;
  writeFileSync(file, code);
  chmodSync(file, 0o644);
  try {
    const r = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, file], { timeout: timeoutMs, maxBuffer: 1 << 20 });
    return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Wrong-token requests from 64 loops as fast as they go, or `perSecond` in all (under the rate limit). */
const flooder = (port: number, seconds: number, perSecond = 0) => `
const net = require("node:net");
const req = "GET /v1/credentials/audit HTTP/1.1\\r\\nHost: 127.0.0.1:${port}\\r\\nAuthorization: ${"w".repeat(43)}\\r\\n\\r\\n";
const end = Date.now() + ${seconds * 1000};
const out = { sent: 0, answers: {}, errors: 0 };
let loops = 0;
const pace = ${perSecond ? 8_000 / perSecond : 0};
function loop() {
  if (pace) { const wait = pace; setTimeout(step, wait); } else step();
}
function step() {
  if (Date.now() >= end) { if (--loops === 0) console.log(JSON.stringify(out)); return; }
  const s = net.connect({ host: "127.0.0.1", port: ${port} });
  let got = "";
  const again = () => { s.destroy(); setImmediate(loop); };
  s.on("connect", () => { out.sent++; s.write(req); });
  s.on("data", (d) => {
    got += d;
    const m = /^HTTP\\/1\\.1 (\\d+)/.exec(got);
    if (m && got.includes("\\r\\n\\r\\n") ) { out.answers[m[1]] = (out.answers[m[1]] ?? 0) + 1; s.removeAllListeners("close"); again(); }
  });
  s.on("error", () => { out.errors++; });
  s.on("close", () => again());
}
const LOOPS = ${perSecond ? 8 : 64};
for (let i = 0; i < LOOPS; i++) { loops++; setTimeout(loop, pace ? (i * pace) / LOOPS : 0); }
`;

const holder = (port: number, seconds: number, count: number) => `
const net = require("node:net");
const req = "GET /v1/credentials/audit HTTP/1.1\\r\\nHost: 127.0.0.1:${port}\\r\\nAuthorization: nope\\r\\n\\r\\n";
const end = Date.now() + ${seconds * 1000};
const out = { opened: 0, closedByDaemon: 0, maxOpen: 0, errors: 0 };
let open = 0;
function hold() {
  if (Date.now() >= end) return;
  const s = net.connect({ host: "127.0.0.1", port: ${port} });
  out.opened++;
  s.on("connect", () => { open++; out.maxOpen = Math.max(out.maxOpen, open); s.write(req); });
  const t = setInterval(() => { if (!s.destroyed) s.write(req); }, 2000);
  s.on("data", () => {});
  s.on("error", () => { out.errors++; });
  s.on("close", (hadError) => { clearInterval(t); if (s.connecting === false) open--; out.closedByDaemon++; setTimeout(hold, 10); });
}
for (let i = 0; i < ${count}; i++) hold();
setTimeout(() => { console.log(JSON.stringify(out)); process.exit(0); }, ${seconds * 1000 + 200});
`;

function userFetch(port: number, token: string): Promise<{ ok: boolean; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/v1/credentials/audit", headers: { authorization: token }, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ ok: res.statusCode === 200, ms: performance.now() - t0 }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ ok: false, ms: performance.now() - t0 }));
  });
}

const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main() {
  const stack = await startStack();
  try {
    await loginAndGrant(stack, "audit");
    const auditLog = path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log");

    // 1. Floods: as fast as the machine allows, then 45 a second (under the rate limit, the case).
    const capacity = AUDIT_FILE_BYTES * AUDIT_FILES_KEPT;
    for (const perSecond of [0, 45]) {
      const ep1 = await endpointOf(stack, "audit");
      const lines0 = readFileSync(auditLog, "utf8").split("\n").length - 1;
      const bytes0 = statSync(auditLog).size;
      const flood = await asNobody(flooder(ep1.port, floodSeconds, perSecond), (floodSeconds + 30) * 1000);
      // The summaries of the interval under way are written at stop.
      await stack.stopDaemon("SIGTERM");
      const lines = readFileSync(auditLog, "utf8").split("\n").slice(lines0).filter(Boolean);
      const refuse = lines.filter((l) => l.includes('"event":"refuse"'));
      const refuseBytes = refuse.reduce((n, l) => n + l.length + 1, 0);
      // A run shorter than one 5-minute interval writes what one interval writes: an hour is 12 of them.
      const intervals = Math.max(1, floodSeconds / 300);
      console.log(
        JSON.stringify({
          flood: { seconds: floodSeconds, pacedPerSecond: perSecond || "max", neighbour: flood, requestsPerSecond: Math.round(Number(flood.sent) / floodSeconds) },
          audit: { linesWritten: lines.length, bytesWritten: statSync(auditLog).size - bytes0, refuseLines: refuse.length, refuseBytes },
          oneHour: { refuseLines: Math.round((refuse.length / intervals) * 12), refuseBytes: Math.round((refuseBytes / intervals) * 12) },
          // What a line per refusal (before) would have written in that hour, at the rate the daemon answered 401.
          ...(perSecond ? { oneHourBefore: { lines: Math.round((Number((flood.answers as Record<string, number>)["401"] ?? 0) / floodSeconds) * 3600) } } : {}),
          historyKept: { bytes: capacity, daysOfThisFlood: Math.round(capacity / ((refuseBytes / intervals) * 12 * 24)) },
        }),
      );
      await stack.startDaemon();
      await loginAndGrant(stack, "audit"); // the memory keychain forgot the login
    }

    // 2. Hold.
    const ep2 = await endpointOf(stack, "audit");
    await waitFor200(ep2, "/v1/credentials/audit");
    const holding = asNobody(holder(ep2.port, holdSeconds, 1_100), (holdSeconds + 30) * 1000);
    await new Promise((r) => setTimeout(r, 3000)); // the holder's sockets are up
    const results: Array<{ ok: boolean; ms: number }> = [];
    const stopAt = Date.now() + (holdSeconds - 5) * 1000;
    while (Date.now() < stopAt) {
      results.push(await userFetch(ep2.port, ep2.token));
      await new Promise((r) => setTimeout(r, 50));
    }
    const held = await holding;
    const ms = results.map((r) => r.ms);
    console.log(
      JSON.stringify(
        {
          hold: { seconds: holdSeconds, neighbour: held },
          user: { requests: results.length, ok: results.filter((r) => r.ok).length, successRate: results.filter((r) => r.ok).length / results.length, p50: pct(ms, 50), p99: pct(ms, 99), max: Math.max(...ms) },
        },
        null,
        2,
      ),
    );
  } finally {
    await stack.close();
  }
}

await main();
