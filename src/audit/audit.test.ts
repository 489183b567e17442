import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { auditFiles, fileAudit } from "./audit.js";

describe("audit log", () => {
  it("writes JSON lines to a 0600 file and redacts secret fields wherever they sit", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "aud-")), "log", "audit.log");
    const audit = fileAudit(file);
    audit.record("mint", { profile: "audit", accessKeyId: "ASIAEXAMPLE", secretAccessKey: "s3cr3t", sessionToken: "tok", nested: { accessToken: "at", refreshToken: "rt", clientSecret: "cs" } });
    await audit.flush();
    const text = readFileSync(file, "utf8");
    const line = JSON.parse(text.trim()) as Record<string, unknown>;
    expect(line.event).toBe("mint");
    expect(line.accessKeyId).toBe("ASIAEXAMPLE");
    for (const secret of ["s3cr3t", "\"tok\"", "\"at\"", "\"rt\"", "\"cs\""]) expect(text).not.toContain(secret);
    expect(text).toContain("[redacted]");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it("rotates by size, keeps N old files (0600), and loses no line", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "aud-")), "audit.log");
    const audit = fileAudit(file, { maxBytes: 2000, keep: 3 });
    for (let i = 0; i < 200; i++) audit.record("serve", { profile: "audit", n: i });
    await audit.flush();
    await new Promise((r) => setTimeout(r, 50));
    const files = auditFiles(file);
    expect(files.map((f) => path.basename(f))).toEqual(["audit.log.3", "audit.log.2", "audit.log.1", "audit.log"]);
    expect(existsSync(`${file}.4`)).toBe(false);
    for (const f of files) expect(statSync(f).mode & 0o777).toBe(0o600);
    const ns = files.flatMap((f) => readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { n: number }).n));
    // The oldest files were rotated away; what is kept is contiguous and ends with the last record.
    expect(ns.at(-1)).toBe(199);
    for (let i = 1; i < ns.length; i++) expect(ns[i]).toBe(ns[i - 1]! + 1);
    expect(ns.length).toBeGreaterThan(50);
  });
});
