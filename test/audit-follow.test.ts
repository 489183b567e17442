import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileAudit, type Audit } from "../src/audit/audit.js";

/**
 * `s3jit audit --json --follow` for a log shipper: every line the daemon's writer appends is
 * printed once, in order, across rotations, from a real CLI process following the real file.
 * No sleeps: the test waits for the lines it expects to arrive.
 */
const CLI = path.resolve("bin/s3jit.js");
let dir: string;
let env: NodeJS.ProcessEnv;
let logFile: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "s3jit-follow-"));
  env = { PATH: process.env.PATH, HOME: dir, XDG_STATE_HOME: path.join(dir, "state"), XDG_CONFIG_HOME: path.join(dir, "config"), XDG_DATA_HOME: path.join(dir, "data"), XDG_RUNTIME_DIR: path.join(dir, "run") };
  logFile = path.join(dir, "state", "s3jit", "audit.log");
  mkdirSync(path.dirname(logFile), { recursive: true, mode: 0o700 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Collects the follower's stdout lines; `until(n)` resolves once n lines have come. */
function follower(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [CLI, "audit", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let buf = "";
  let stderr = "";
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of [...waiters]) if (lines.length >= w.n) w.resolve();
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const until = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (lines.length >= n) return resolve();
      waiters.push({ n, resolve });
      child.on("exit", (code) => reject(new Error(`follower exited ${code} after ${lines.length} lines: ${stderr}`)));
    });
  const stop = () => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : (child.on("exit", (c) => r(c)), child.kill("SIGTERM"))));
  return { lines, until, stop };
}

describe("s3jit audit --json --follow", () => {
  it("prints what was there, then every new line once and in order, across rotations, and exits 0 on SIGTERM", async () => {
    // A small rotation size, so the writer rotates several times while it is followed.
    let audit: Audit = fileAudit(logFile, { maxBytes: 2_000, keep: 5 });
    for (let i = 0; i < 3; i++) audit.record("grant", { profile: "audit", n: i });
    await audit.flush();

    const f = follower(["--json", "--follow"]);
    await f.until(3);
    const total = 60;
    for (let i = 3; i < total; i++) {
      audit.record("serve", { profile: "audit", n: i, pad: "x".repeat(100) });
      // Give the follower each rotation as it happens (a shipper meets them one by one too), and
      // let it catch up before the next: 10 lines are under one rotation's 2,000 bytes. A follower
      // starved for longer than `keep` rotations (a loaded machine) would find its file deleted, as
      // `tail -F` would; with the daemon's 7 × 10 MiB that is 70 MB behind, not 10 KB.
      if (i % 10 === 0) {
        await audit.flush();
        await f.until(i + 1);
      }
    }
    await audit.flush();
    await f.until(total);
    const ns = f.lines.map((l) => (JSON.parse(l) as { n: number }).n);
    expect(ns).toEqual(Array.from({ length: total }, (_, i) => i));
    // The writer did rotate under the follower.
    const { existsSync } = await import("node:fs");
    expect(existsSync(`${logFile}.2`)).toBe(true);

    // A daemon restart opens the same file again: its lines follow too.
    audit = fileAudit(logFile, { maxBytes: 2_000, keep: 5 });
    audit.record("start", { n: total });
    await audit.flush();
    await f.until(total + 1);
    expect(JSON.parse(f.lines.at(-1)!)).toMatchObject({ event: "start", n: total });
    expect(await f.stop()).toBe(0);
  });

  it("waits for a log that does not exist yet", async () => {
    const fresh = path.join(dir, "state2", "s3jit", "audit.log");
    mkdirSync(path.dirname(fresh), { recursive: true, mode: 0o700 });
    const saved = env.XDG_STATE_HOME;
    env.XDG_STATE_HOME = path.join(dir, "state2");
    try {
      const f = follower(["--json", "--follow"]);
      // The follower is watching once it has started; a line written after that must arrive.
      const audit = fileAudit(fresh);
      audit.record("start", { pid: 1 });
      await audit.flush();
      await f.until(1);
      expect(JSON.parse(f.lines[0]!)).toMatchObject({ event: "start", pid: 1 });
      expect(await f.stop()).toBe(0);
    } finally {
      env.XDG_STATE_HOME = saved;
    }
  });
});
