import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { auditFiles, fileAudit, REDACT_PATHS } from "./audit.js";

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

  // Written out here, not read from REDACT_PATHS: a field dropped from the list must fail a row.
  const TOP = ["secretAccessKey", "sessionToken", "accessToken", "refreshToken", "clientSecret", "token", "authorization", "SecretAccessKey", "SessionToken", "Token"];
  const REDACTED: Array<{ path: string; fields: Record<string, unknown>; at: (line: Record<string, unknown>) => unknown }> = [
    ...TOP.map((k) => ({ path: k, fields: { [k]: `secret-${k}` }, at: (l: Record<string, unknown>) => l[k] })),
    ...TOP.map((k) => ({
      path: `*.${k}`,
      fields: { nested: { [k]: `secret-nested-${k}`, kept: "visible" } },
      at: (l: Record<string, unknown>) => (l.nested as Record<string, unknown>)[k],
    })),
    {
      path: "req.headers.authorization",
      fields: { req: { headers: { authorization: "secret-req-auth", host: "127.0.0.1" } } },
      at: (l: Record<string, unknown>) => ((l.req as Record<string, unknown>).headers as Record<string, unknown>).authorization,
    },
  ];

  it("lists exactly the 21 redacted fields this table checks", () => {
    expect([...REDACT_PATHS].sort()).toEqual(REDACTED.map((r) => r.path).sort());
  });

  describe("redacts every secret field, on the file the daemon writes", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "aud-")), "audit.log");
    const audit = fileAudit(file);
    let lines: Array<Record<string, unknown>> = [];
    let text = "";
    beforeAll(async () => {
      for (const [i, r] of REDACTED.entries()) audit.record("mint", { profile: "audit", n: i, ...r.fields });
      await audit.flush();
      text = readFileSync(file, "utf8");
      lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    });
    afterAll(() => rmSync(path.dirname(file), { recursive: true, force: true }));

    it.each(REDACTED.map((r, i) => [r.path, i] as const))("%s", (where, i) => {
      const line = lines.find((l) => l.n === i);
      expect(line?.profile).toBe("audit");
      expect(REDACTED[i]!.at(line!)).toBe("[redacted]");
      expect(text).not.toContain(where === "req.headers.authorization" ? "secret-req-auth" : `secret-${where.startsWith("*.") ? "nested-" + where.slice(2) : where}"`);
    });

    it("keeps the fields beside them", () => {
      expect(lines).toHaveLength(REDACTED.length);
      expect(lines.filter((l) => (l.nested as Record<string, unknown> | undefined)?.kept === "visible")).toHaveLength(TOP.length);
      expect((lines.at(-1)!.req as { headers: { host: string } }).headers.host).toBe("127.0.0.1");
    });
  });
});
