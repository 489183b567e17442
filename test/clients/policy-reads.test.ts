import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requires } from "../helpers/requires.js";
import { AWS_CLI, FIXTURES, fixtureResult, lastS3Signer, PYTHON, runProcess, startClientStack, type ClientStack } from "./harness.js";

/**
 * The reads issue 14 added, through the daemon with real clients (profile `audit`, scope
 * "audit-logs/2026/" and "reports", no kms_keys): an SSE-KMS object in scope, versions under
 * the prefix, and a key in Japanese. The sandbox's S3 asks kms:Decrypt as the caller with
 * S3's encryption context, so the SSE-KMS read passes only under the policy's in-scope
 * contexts (test/sandbox/s3-kms.test.ts shows the same read refused outside them).
 */

const [awsCli, boto3Client] = await Promise.all([requires("aws-cli-v2"), requires("boto3")]);
const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KMS_OBJECT = { key: "2026/04/kms.json", body: '{"month":"2026-04","sse":"aws:kms"}\n' };
const JAPANESE = { key: "2026/レポート/一月の売上.csv", body: "月,売上\n1月,1000\n" };

// Each AWS CLI call starts a Python interpreter: seconds apiece on a busy 2-core machine.
describe("the reads the session policy allows, through s3jit with real clients", { timeout: 120_000 }, () => {
  let cs: ClientStack;
  beforeAll(async () => {
    cs = await startClientStack();
    cs.stack.sandbox.s3.put("audit-logs", KMS_OBJECT.key, Buffer.from(KMS_OBJECT.body), { sse: { keyId: KEY_ARN } });
    cs.stack.sandbox.s3.put("audit-logs", "2025/12/kms.json", Buffer.from("{}\n"), { sse: { keyId: KEY_ARN } });
    cs.stack.sandbox.s3.put("audit-logs", JAPANESE.key, Buffer.from(JAPANESE.body));
  });
  afterAll(async () => {
    await cs?.close();
  });

  it("`s3jit status --json` shows each profile's session policy size against STS's limit", async () => {
    const p = await cs.stack.cli(["status", "--json"]);
    expect(p.code, p.stderr).toBe(0);
    const audit = (JSON.parse(p.stdout) as { profiles: Record<string, { policy?: unknown }> }).profiles.audit!;
    expect(audit.policy).toEqual({ chars: expect.any(Number), limit: 2048 });
    expect((audit.policy as { chars: number }).chars).toBeGreaterThan(900);
    expect((audit.policy as { chars: number }).chars).toBeLessThanOrEqual(2048);
  });

  awsCli.describe("AWS CLI v2 (/usr/bin/aws)", () => {
    const aws = async (...args: string[]) => runProcess(AWS_CLI, ["--endpoint-url", cs.stack.sandbox.url, ...args], { env: await cs.clientEnv() });

    it("reads an SSE-KMS object in scope (no key ARNs in the config)", async () => {
      const p = await aws("s3", "cp", `s3://audit-logs/${KMS_OBJECT.key}`, "-");
      expect(p.code, p.stderr).toBe(0);
      expect(p.stdout).toBe(KMS_OBJECT.body);
      expect(lastS3Signer(cs.stack)).toBe(await cs.servedAccessKeyId());
      const head = await aws("s3api", "head-object", "--bucket", "audit-logs", "--key", KMS_OBJECT.key);
      expect(JSON.parse(head.stdout)).toMatchObject({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: KEY_ARN });
    });

    it("refuses an SSE-KMS object outside the scope", async () => {
      const p = await aws("s3api", "get-object", "--bucket", "audit-logs", "--key", "2025/12/kms.json", path.join(cs.stack.dir, "out"));
      expect(p.code).not.toBe(0);
      expect(p.stderr).toContain("An error occurred (AccessDenied) when calling the GetObject operation: Access Denied");
    });

    it("`aws s3api list-object-versions --prefix 2026/` lists the versions in scope; without the prefix it is refused", async () => {
      const p = await aws("s3api", "list-object-versions", "--bucket", "audit-logs", "--prefix", "2026/");
      expect(p.code, p.stderr).toBe(0);
      const keys = (JSON.parse(p.stdout) as { Versions: Array<{ Key: string; IsLatest: boolean }> }).Versions.map((v) => v.Key);
      expect(keys).toEqual(expect.arrayContaining(["2026/01/report.json", KMS_OBJECT.key, JAPANESE.key]));
      expect(keys.every((k) => k.startsWith("2026/"))).toBe(true);
      const all = await aws("s3api", "list-object-versions", "--bucket", "audit-logs");
      expect(all.code).not.toBe(0);
      expect(all.stderr).toContain("An error occurred (AccessDenied) when calling the ListObjectVersions operation: Access Denied");
    });

    it("reads a key in Japanese under the scope, and lists it", async () => {
      const p = await aws("s3", "cp", `s3://audit-logs/${JAPANESE.key}`, "-");
      expect(p.code, p.stderr).toBe(0);
      expect(p.stdout).toBe(JAPANESE.body);
      const ls = await aws("s3", "ls", "s3://audit-logs/2026/レポート/");
      expect(ls.code, ls.stderr).toBe(0);
      expect(ls.stdout).toContain("一月の売上.csv");
    });

    it("refuses `aws s3 ls s3://audit-logs/2026` (no trailing slash: it would list names outside the scope); with the slash it works (the README quotes both)", async () => {
      const p = await aws("s3", "ls", "s3://audit-logs/2026");
      expect(p.code).not.toBe(0);
      expect(p.stderr.trim()).toBe("An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied");
      const ok = await aws("s3", "ls", "s3://audit-logs/2026/");
      expect(ok.code, ok.stderr).toBe(0);
    });
  });

  boto3Client.describe("boto3 (/usr/bin/python3)", () => {
    const boto3 = async (...args: string[]) => fixtureResult(await runProcess(PYTHON, [path.join(FIXTURES, "boto3_s3.py"), ...args], { env: await cs.clientEnv() }));

    it("reads an SSE-KMS object in scope and a key in Japanese", async () => {
      expect(await boto3("get", "audit-logs", KMS_OBJECT.key)).toMatchObject({ ok: true, body: KMS_OBJECT.body });
      expect(await boto3("get", "audit-logs", JAPANESE.key)).toMatchObject({ ok: true, body: JAPANESE.body });
      expect(await boto3("get", "audit-logs", "2025/12/kms.json")).toMatchObject({ ok: false, name: "AccessDenied", status: 403 });
    });
  });

  describe("AWS SDK for JavaScript v3", () => {
    const js = async (...args: string[]) =>
      fixtureResult(await runProcess(process.execPath, [path.join(FIXTURES, "js-s3.mjs"), ...args], { env: await cs.clientEnv() }));

    it("reads an SSE-KMS object in scope and a key in Japanese", async () => {
      expect(await js("get", "audit-logs", KMS_OBJECT.key)).toMatchObject({ ok: true, body: KMS_OBJECT.body });
      expect(await js("get", "audit-logs", JAPANESE.key)).toMatchObject({ ok: true, body: JAPANESE.body });
      expect(await js("get", "audit-logs", "2025/12/kms.json")).toMatchObject({ ok: false, name: "AccessDenied", status: 403 });
      expect(await js("list", "audit-logs", "2026/レポート/")).toMatchObject({ ok: true, keys: [JAPANESE.key] });
    });
  });
});
