import { afterEach, describe, expect, it } from "vitest";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AUDIT_FILE_BYTES, auditFiles, fileAudit, nullAudit } from "../../src/audit/audit.js";

/**
 * The audit file at its edges: a file that already exists (its mode, its size toward rotation),
 * rotation at exactly the size limit, the default limits, the journal mirror, and which files
 * count as the log's old files.
 */

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fresh(): string {
  dir = mkdtempSync(path.join(tmpdir(), "s3jit-audit-kill-"));
  return path.join(dir, "audit.log");
}

/** The length in bytes of the line `record("serve", { n })` writes (the time has a fixed width). */
async function lineLength(n: number): Promise<number> {
  const probe = path.join(mkdtempSync(path.join(tmpdir(), "s3jit-audit-probe-")), "probe.log");
  const audit = fileAudit(probe);
  audit.record("serve", { n });
  await audit.flush();
  const bytes = statSync(probe).size;
  rmSync(path.dirname(probe), { recursive: true, force: true });
  return bytes;
}

describe("the audit file", () => {
  it("an existing file opened 0644 is tightened to 0600, and its lines are kept", async () => {
    const file = fresh();
    writeFileSync(file, '{"event":"start"}\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    const audit = fileAudit(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    audit.record("stop", {});
    await audit.flush();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines[0]).toBe('{"event":"start"}');
    expect((JSON.parse(lines[1]!) as { event: string; v: number }).event).toBe("stop");
    expect(lines).toHaveLength(2);
  });

  it("rotates when a line brings the file to exactly its limit, not a byte before", async () => {
    const len = await lineLength(7);
    const under = fresh();
    const a = fileAudit(under, { maxBytes: len + 1, keep: 2 });
    a.record("serve", { n: 7 });
    await a.flush();
    expect(auditFiles(under).map((f) => path.basename(f))).toEqual(["audit.log"]);
    rmSync(dir, { recursive: true, force: true });

    const at = fresh();
    const b = fileAudit(at, { maxBytes: len, keep: 2 });
    // Once the file is open, the line that reaches the limit is flushed into the file it rotates.
    await b.flush();
    b.record("serve", { n: 7 });
    await b.flush();
    expect(auditFiles(at).map((f) => path.basename(f))).toEqual(["audit.log.1", "audit.log"]);
    expect(statSync(`${at}.1`).size).toBe(len);
    expect(statSync(at).size).toBe(0);
  });

  it("the size of a file that already exists counts toward its limit", async () => {
    const len = await lineLength(1);
    const file = fresh();
    writeFileSync(file, "x".repeat(100) + "\n", { mode: 0o600 });
    const audit = fileAudit(file, { maxBytes: 101 + len, keep: 2 });
    await audit.flush();
    audit.record("serve", { n: 1 });
    await audit.flush();
    expect(statSync(`${file}.1`).size).toBe(101 + len);
    expect(statSync(file).size).toBe(0);
  });

  it("keeps 7 old files unless told otherwise", async () => {
    const file = fresh();
    const audit = fileAudit(file, { maxBytes: 50 });
    for (let i = 0; i < 12; i++) {
      audit.record("serve", { n: i });
      await audit.flush();
    }
    expect(auditFiles(file).map((f) => path.basename(f))).toEqual(["audit.log.7", "audit.log.6", "audit.log.5", "audit.log.4", "audit.log.3", "audit.log.2", "audit.log.1", "audit.log"]);
    // Each line rotated at once: the newest old file holds the last line, the current one nothing.
    expect((JSON.parse(readFileSync(`${file}.1`, "utf8")) as { n: number }).n).toBe(11);
    expect((JSON.parse(readFileSync(`${file}.7`, "utf8")) as { n: number }).n).toBe(5);
  });

  it("rotates at 10 MiB unless told otherwise", async () => {
    expect(AUDIT_FILE_BYTES).toBe(10 * 1024 * 1024);
    const file = fresh();
    const audit = fileAudit(file);
    const pad = "p".repeat(10_000);
    const len = await lineLength(0);
    let written = 0;
    for (let n = 0; written < AUDIT_FILE_BYTES - 20_000; n++) {
      audit.record("serve", { n, pad });
      written += len + pad.length + ',"pad":""'.length;
    }
    await audit.flush();
    expect(existsSync(`${file}.1`)).toBe(false);
    for (let n = 0; n < 4; n++) audit.record("serve", { n: 1e6 + n, pad });
    await audit.flush();
    expect(existsSync(`${file}.1`)).toBe(true);
    const rotated = statSync(`${file}.1`).size;
    expect(rotated).toBeGreaterThanOrEqual(AUDIT_FILE_BYTES);
    expect(rotated).toBeLessThan(AUDIT_FILE_BYTES + 10_100);
  });

  it("the mirror (the journal) gets every line exactly as the file, redacted", async () => {
    const file = fresh();
    const mirrored: string[] = [];
    const audit = fileAudit(file, { mirror: (l) => mirrored.push(l) });
    audit.record("login", { sso: "corp", accessToken: "secret-at" });
    audit.record("logout", { sso: "corp" });
    await audit.flush();
    expect(mirrored).toHaveLength(2);
    expect(mirrored.join("")).toBe(readFileSync(file, "utf8"));
    expect(mirrored[0]).toContain('"accessToken":"[redacted]"');
  });
});

describe("what a line holds, and when flush() returns", () => {
  it("each line is the schema version, level, time, event and fields: no pid, no host", async () => {
    const file = fresh();
    const audit = fileAudit(file);
    audit.record("grant", { profile: "audit" });
    await audit.flush();
    const line = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(["level", "time", "v", "event", "profile"]);
    expect(line).toMatchObject({ level: 30, v: 1, event: "grant", profile: "audit" });
  });

  it("flush() returns once every byte handed to the file is on disk (a 2 MB burst)", async () => {
    const file = fresh();
    let bytes = 0;
    const audit = fileAudit(file, { mirror: (l) => (bytes += Buffer.byteLength(l)) });
    await audit.flush();
    for (let n = 0; n < 200; n++) audit.record("serve", { n, pad: "q".repeat(10_000) });
    await audit.flush();
    expect(bytes).toBeGreaterThan(2_000_000);
    expect(statSync(file).size).toBe(bytes);
  });

  it("nullAudit takes every event and flushes at once", async () => {
    expect(() => nullAudit.record("start", { any: 1 })).not.toThrow();
    await expect(nullAudit.flush()).resolves.toBeUndefined();
  });
});

describe("a minimum retention keeps old files by their age", () => {
  const DAY = 86_400_000;
  // Whole seconds, so a file's mtime can be set to exactly the retention's edge.
  const NOW = Math.floor(Date.now() / 1000) * 1000;

  async function rotated(ageOf: (i: number) => number): Promise<string> {
    const file = fresh();
    const audit = fileAudit(file, { maxBytes: 50, keep: 1, minRetentionMs: 90 * DAY, now: () => NOW });
    for (let n = 0; n < 3; n++) {
      audit.record("serve", { n });
      await audit.flush();
      for (let i = 1; existsSync(`${file}.${i}`); i++) utimesSync(`${file}.${i}`, ageOf(i) / 1000, ageOf(i) / 1000);
    }
    return file;
  }

  it("a file 10 days old is kept under a 90-day minimum; one exactly 90 days old too", async () => {
    const young = await rotated(() => NOW - 10 * DAY);
    expect(auditFiles(young).map((f) => path.basename(f))).toEqual(["audit.log.3", "audit.log.2", "audit.log.1", "audit.log"]);
    rmSync(dir, { recursive: true, force: true });
    const edge = await rotated(() => NOW - 90 * DAY);
    expect(auditFiles(edge).map((f) => path.basename(f))).toEqual(["audit.log.3", "audit.log.2", "audit.log.1", "audit.log"]);
    rmSync(dir, { recursive: true, force: true });
    const old = await rotated(() => NOW - 90 * DAY - 1000);
    expect(auditFiles(old).map((f) => path.basename(f))).toEqual(["audit.log.1", "audit.log"]);
  });
});

describe("auditFiles", () => {
  it("the log's numbered files, oldest (highest number) first, then the log; nothing else in the folder", () => {
    const file = fresh();
    for (const n of ["audit.log", "audit.log.1", "audit.log.2", "audit.log.10", "audit.log.bak", "xaudit.log.3", "audit.log.1.gz", "other.log.4"]) writeFileSync(path.join(dir, n), "");
    expect(auditFiles(file).map((f) => path.basename(f))).toEqual(["audit.log.10", "audit.log.2", "audit.log.1", "audit.log"]);
    expect(auditFiles(file)[0]).toBe(path.join(dir, "audit.log.10"));
    rmSync(file);
    expect(auditFiles(file).map((f) => path.basename(f))).toEqual(["audit.log.10", "audit.log.2", "audit.log.1"]);
  });

  it("no folder: no files", () => {
    fresh();
    mkdirSync(path.join(dir, "empty"));
    expect(auditFiles(path.join(dir, "missing", "audit.log"))).toEqual([]);
    expect(auditFiles(path.join(dir, "empty", "audit.log"))).toEqual([]);
  });
});
