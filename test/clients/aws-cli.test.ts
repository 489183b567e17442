import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { requires } from "../helpers/requires.js";
import { AWS_CLI, IN_SCOPE, lastS3Signer, runProcess, seeded, startClientStack, type ClientStack } from "./harness.js";

/**
 * AWS CLI v2 from Debian (awscli 2.9) at /usr/bin/aws — not a v1 `aws` that may come first on
 * PATH. 2.9 reads neither AWS_ENDPOINT_URL_S3 nor the token file, so the test endpoint goes in
 * --endpoint-url and the token comes from AWS_CONTAINER_AUTHORIZATION_TOKEN.
 */

const awsCli = await requires("aws-cli-v2");

// Each AWS CLI call starts a Python interpreter: seconds apiece on a busy 2-core machine, and a test makes up to three.
awsCli.describe("AWS CLI v2 (Debian awscli) through s3jit", () => {
  let cs: ClientStack;
  beforeAll(async () => {
    cs = await startClientStack();
  });
  afterAll(async () => {
    await cs?.close();
  });

  const aws = async (args: string[], input?: string) =>
    runProcess(AWS_CLI, ["--endpoint-url", cs.stack.sandbox.url, ...args], { env: await cs.clientEnv(), ...(input !== undefined ? { input } : {}) });
  const expectDenied = (p: { code: number; stderr: string }, operation: string) => {
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain(`An error occurred (AccessDenied) when calling the ${operation} operation: Access Denied`);
  };

  it("`aws configure export-credentials` shows the credentials the daemon serves", async () => {
    const p = await runProcess(AWS_CLI, ["configure", "export-credentials"], { env: await cs.clientEnv() });
    expect(p.code, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ Version: 1, AccessKeyId: await cs.servedAccessKeyId() });
    expect(out.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  });

  it("`aws s3 cp s3://audit-logs/2026/01/report.json -` prints the object", async () => {
    const p = await aws(["s3", "cp", `s3://${IN_SCOPE.bucket}/${IN_SCOPE.key}`, "-"]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key));
    expect(lastS3Signer(cs.stack)).toBe(await cs.servedAccessKeyId());
  });

  it("`aws s3 ls s3://audit-logs/2026/` lists the scope; 2025/ is refused", async () => {
    const p = await aws(["s3", "ls", "s3://audit-logs/2026/"]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/PRE 01\/\n\s+PRE 02\/\n$/);
    expectDenied(await aws(["s3", "ls", "s3://audit-logs/2025/"]), "ListObjectsV2");
  });

  it("`aws s3 cp FILE s3://…` is refused", async () => {
    const file = path.join(cs.stack.dir, "upload.json");
    writeFileSync(file, "{}\n");
    const p = await aws(["s3", "cp", file, "s3://audit-logs/2026/01/new.json"]);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain("upload failed");
    expect(p.stderr).toContain("An error occurred (AccessDenied) when calling the PutObject operation: Access Denied");
    expect(cs.stack.sandbox.s3.get("audit-logs", "2026/01/new.json")).toBeUndefined();
  });

  it("`aws s3 rm s3://…` is refused", async () => {
    const p = await aws(["s3", "rm", `s3://${IN_SCOPE.bucket}/${IN_SCOPE.key}`]);
    expect(p.stderr).toContain("delete failed");
    expectDenied(p, "DeleteObject");
    expect(cs.stack.sandbox.s3.get(IN_SCOPE.bucket, IN_SCOPE.key)).toBeDefined();
  });

  it("reads out of scope are refused (s3api names the code; `s3 cp` HEADs first, and a HEAD has no body: 403 Forbidden)", async () => {
    const out = path.join(cs.stack.dir, "out");
    expectDenied(await aws(["s3api", "get-object", "--bucket", "other-bucket", "--key", "secret.txt", out]), "GetObject");
    expectDenied(await aws(["s3api", "get-object", "--bucket", "audit-logs", "--key", "2025/12/old.json", out]), "GetObject");
    const cp = await aws(["s3", "cp", "s3://other-bucket/secret.txt", "-"]);
    expect(cp.code).not.toBe(0);
    expect(cp.stderr).toContain("An error occurred (403) when calling the HeadObject operation: Forbidden");
    expect(cp.stdout).toBe("");
  });

  it("`s3jit exec audit -- aws s3 cp …` works with nothing else set", async () => {
    // stack.env is the user's lived-in shell (standing keys in ~/.aws, AWS_PROFILE): exec keeps them away and supplies the session.
    const p = await cs.stack.cli(["exec", "audit", "--", AWS_CLI, "--endpoint-url", cs.stack.sandbox.url, "s3", "cp", `s3://${IN_SCOPE.bucket}/${IN_SCOPE.key}`, "-"]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key));
    const refused = await cs.stack.cli(["exec", "audit", "--", AWS_CLI, "--endpoint-url", cs.stack.sandbox.url, "s3", "rm", `s3://${IN_SCOPE.bucket}/${IN_SCOPE.key}`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("AccessDenied");
  });

  it("fails with an error naming the fix after `s3jit revoke audit`", async () => {
    const env = await cs.clientEnv();
    expect((await cs.stack.cli(["revoke", "audit"])).code).toBe(0);
    const p = await runProcess(AWS_CLI, ["--endpoint-url", cs.stack.sandbox.url, "s3", "cp", `s3://${IN_SCOPE.bucket}/${IN_SCOPE.key}`, "-"], { env });
    expect(p.code).not.toBe(0);
    expect(p.stdout).toBe("");
    expect(p.stderr).toMatch(/s3jit grant audit/);
  });
}, { timeout: 120_000 });
