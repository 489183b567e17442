import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { auditFiles, fileAudit } from "./audit.js";

/**
 * A managed policy's minimum audit retention: rotation never drops an old file whose newest line
 * is younger than it, and keeps more files instead; without one, it keeps `keep` old files.
 */
const DAY = 86_400_000;
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function writeRotations(minRetentionMs: number | undefined, now: number, ageOld: (file: string) => void): Promise<string> {
  dir = mkdtempSync(path.join(os.tmpdir(), "s3jit-retention-"));
  const file = path.join(dir, "audit.log");
  const audit = fileAudit(file, { maxBytes: 300, keep: 2, now: () => now, ...(minRetentionMs ? { minRetentionMs } : {}) });
  for (let i = 0; i < 40; i++) {
    audit.record("serve", { n: i, pad: "x".repeat(100) });
    await audit.flush();
    ageOld(file);
  }
  return file;
}

const lines = (file: string) => auditFiles(file).flatMap((f) => readFileSync(f, "utf8").split("\n").filter(Boolean)).map((l) => (JSON.parse(l) as { n: number }).n);

describe("audit retention", () => {
  it("without a minimum, rotation keeps `keep` old files and drops older lines", async () => {
    const file = await writeRotations(undefined, Date.now(), () => {});
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(lines(file)[0]).toBeGreaterThan(0);
  });

  it("with a minimum, no file younger than it is dropped: every line is kept", async () => {
    const file = await writeRotations(90 * DAY, Date.now(), () => {});
    expect(existsSync(`${file}.3`)).toBe(true);
    expect(lines(file)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("files older than the minimum are dropped again", async () => {
    const now = Date.now();
    // Every old file is made 100 days old as soon as it exists: past a 90-day minimum.
    const old = (now - 100 * DAY) / 1000;
    const file = await writeRotations(90 * DAY, now, (f) => {
      for (let i = 1; existsSync(`${f}.${i}`); i++) utimesSync(`${f}.${i}`, old, old);
    });
    expect(existsSync(`${file}.3`)).toBe(false);
  });
});
