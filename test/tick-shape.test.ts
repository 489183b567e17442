import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cleanEnv, xdgEnv } from "./helpers/stack.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LAUNCHER = path.join(ROOT, "bin", "s3jit.js");
const KEEPER = path.join(ROOT, "bin", "tick-shape.js");

// Run in a child Node started with the preload below, --expose-gc and V8's natives syntax, which
// lets it print process.nextTick's feedback: the state of each site where the tick object literal
// defines a property. The preload makes tick objects until nextTick's feedback has learnt the
// literal's class (20 calls were too few to settle it here, 50 enough), then, once the main script
// has run, collects the heap with no tick object queued, makes three more and prints the feedback
// a turn later. --max-semi-space-size keeps the launcher from re-executing itself (Node 22.15+).
const PROBE = `
const noop = () => {};
for (let i = 0; i < 100; i++) process.nextTick(noop);
setImmediate(() => {
  gc();
  for (let i = 0; i < 3; i++) process.nextTick(noop);
  setImmediate(() => {
    process.stdout.write("probe:\\n");
    %DebugPrint(process.nextTick);
  });
});
`;

function literalSites(args: string[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "s3jit-tick-"));
  try {
    const probe = path.join(dir, "probe.cjs");
    writeFileSync(probe, PROBE);
    // V8 prints to the C library's stdout, which drops what a full non-blocking pipe refuses
    // (Node makes the pipe non-blocking once anything in the child writes to process.stdout): a
    // file takes all of it.
    const out = path.join(dir, "stdout");
    const fd = openSync(out, "w");
    let r;
    try {
      r = spawnSync(process.execPath, ["--allow-natives-syntax", "--expose-gc", "--max-semi-space-size=1", "--require", probe, ...args], {
        encoding: "utf8",
        cwd: dir,
        stdio: ["ignore", fd, "pipe"],
        env: { ...cleanEnv(), HOME: dir, ...xdgEnv(dir), S3JIT_CONFIG: path.join(dir, "none.toml") },
        timeout: 20_000,
      });
    } finally {
      closeSync(fd);
    }
    const stdout = readFileSync(out, "utf8");
    const printed = stdout.slice(stdout.indexOf("probe:"));
    const sites = [...printed.matchAll(/slot #\d+ DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1]!);
    // V8 prints feedback only in builds with object printing (Node's release builds have it).
    expect(sites.length, `no tick-object sites in the child's output (exit ${r.status}, signal ${r.signal}, ${r.error?.message ?? "spawned"}):\n${stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`).toBeGreaterThanOrEqual(2);
    return sites;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the daemon keeps the class of Node's tick objects (bin/tick-shape.js)", () => {
  it("without it, one full collection with no tick object alive leaves nextTick's literal sites megamorphic for good", () => {
    // The V8 behaviour the keeper works around. Should a Node version stop doing this, this test
    // says so, and the keeper (and this test) can go.
    const sites = literalSites(["-e", "0"]);
    expect(sites).toContain("MEGAMORPHIC");
  });

  it("with one tick object held, the sites stay monomorphic through the collection", () => {
    const sites = literalSites(["-e", `require(${JSON.stringify(KEEPER)}).keepTickShape()`]);
    expect(sites.every((s) => s === "MONOMORPHIC"), sites.join(", ")).toBe(true);
  });

  it("keepTickShape hands back a tick object, and the same one on a second call", () => {
    const script = `
      const { keepTickShape } = require(${JSON.stringify(KEEPER)});
      const a = keepTickShape();
      process.nextTick(() => {
        const b = keepTickShape();
        const symbols = Object.getOwnPropertySymbols(a).map(String);
        process.stdout.write(JSON.stringify({ same: a === b, callback: typeof a.callback, symbols }));
      });
    `;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { same: boolean; callback: string; symbols: string[] };
    expect(out.same).toBe(true);
    expect(out.callback).toBe("function");
    // Node 24 adds a third (the async context frame).
    expect(out.symbols).toEqual(expect.arrayContaining(["Symbol(async_id_symbol)", "Symbol(trigger_async_id_symbol)"]));
  });

  it("on a Node without async_hooks.createHook it keeps nothing and does not throw", () => {
    const script = `
      require("node:async_hooks").createHook = undefined;
      const kept = require(${JSON.stringify(KEEPER)}).keepTickShape();
      process.stdout.write(String(kept));
    `;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("undefined");
  });

  it("the launcher keeps it for `daemon`, first thing, and not for the quick commands", () => {
    // The daemon stops at its missing config; the probe has looked by then (setImmediate after
    // the launcher's synchronous start).
    expect(literalSites([LAUNCHER, "daemon"]).every((s) => s === "MONOMORPHIC")).toBe(true);
    expect(literalSites([LAUNCHER, "status"])).toContain("MEGAMORPHIC");
  });
});
