/**
 * The AWS helper process (started by aws/worker.ts): the SDK clients live here, not in the
 * daemon, so the daemon never loads them (≈17 MB it could not give back: ES modules cannot be
 * unloaded, and a worker thread's memory stayed resident after terminate()). It runs the calls the
 * daemon sends and exits when the daemon ends it or goes away.
 */
import { AwsSsoApi } from "../sso/api.js";
import { AwsMinter } from "../sts/mint.js";
import { SSO_CALLS, STS_CALLS, toWire, type WireAnswer, type WireRequest } from "./wire.js";

// Lifetimes (a token's expiresAt) are counted from the daemon's clock (a test's manual one too),
// as of the latest request: never later than the answer, so a lifetime is never overstated.
let now = Date.now();
const sso = new AwsSsoApi(() => now);
const sts = new AwsMinter();
const allowed = { sso: new Set<string>(SSO_CALLS), sts: new Set<string>(STS_CALLS) };

function answer(a: WireAnswer): void {
  // The daemon may be gone (its exit closed the pipe): nothing left to tell.
  if (process.connected) process.send?.(a);
}

process.on("message", (m: WireRequest) => {
  now = m.now;
  const target = (m.service === "sso" ? sso : sts) as unknown as Record<string, unknown>;
  const fn = allowed[m.service]?.has(m.method) ? target[m.method] : undefined;
  if (typeof fn !== "function") return answer({ id: m.id, ok: false, error: { kind: "error", message: `no AWS call named ${m.service}.${m.method}` } });
  (fn as (...a: unknown[]) => Promise<unknown>).apply(target, m.args).then(
    (value) => answer({ id: m.id, ok: true, value }),
    (err: unknown) => answer({ id: m.id, ok: false, error: toWire(err) }),
  );
});

// The daemon ended (or crashed): the pipe closes, and the helper goes with it.
process.on("disconnect", () => process.exit(0));
