import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CLI } from "../helpers/stack.js";
import { requires } from "../helpers/requires.js";
import { FIXTURES, fixtureResult, IN_SCOPE, lastS3Signer, OUT_OF_SCOPE, PYTHON, runProcess, seeded, startClientStack, type ClientStack } from "./harness.js";

/**
 * boto3 from Debian (python3-boto3, botocore 1.29) in its own process. Debian's python, not
 * whatever python3 is first on PATH: that is the botocore whose limits s3jit must live with
 * (it ignores AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and accepts only 127.0.0.1/localhost).
 */

const SCRIPT = path.join(FIXTURES, "boto3_s3.py");
const boto3 = await requires("boto3");

boto3.describe("boto3 (Debian python3-boto3) through s3jit", () => {
  let cs: ClientStack;
  beforeAll(async () => {
    cs = await startClientStack();
  });
  afterAll(async () => {
    await cs?.close();
  });

  const py = async (env: NodeJS.ProcessEnv, ...args: string[]) => fixtureResult(await runProcess(PYTHON, [SCRIPT, ...args], { env }));
  const boto3 = async (...args: string[]) => py(await cs.clientEnv(), ...args);
  const denied = { ok: false, name: "AccessDenied", message: "Access Denied", status: 403 };

  it("uses the credentials the daemon serves (token from AWS_CONTAINER_AUTHORIZATION_TOKEN)", async () => {
    expect(await boto3("whoami")).toMatchObject({ ok: true, accessKeyId: await cs.servedAccessKeyId() });
  });

  it("reads an object in scope", async () => {
    expect(await boto3("get", IN_SCOPE.bucket, IN_SCOPE.key)).toMatchObject({ ok: true, body: seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key) });
    expect(lastS3Signer(cs.stack)).toBe(await cs.servedAccessKeyId());
  });

  it("lists inside the scope, and is refused a listing outside it", async () => {
    expect(await boto3("list", "audit-logs", "2026/", "/")).toMatchObject({ ok: true, prefixes: ["2026/01/", "2026/02/"] });
    expect(await boto3("list", "audit-logs", "2025/")).toMatchObject(denied);
  });

  it("is refused a write", async () => {
    expect(await boto3("put", IN_SCOPE.bucket, "2026/01/new.json", "{}")).toMatchObject(denied);
    expect(cs.stack.sandbox.s3.get(IN_SCOPE.bucket, "2026/01/new.json")).toBeUndefined();
  });

  it("is refused a delete", async () => {
    expect(await boto3("delete", IN_SCOPE.bucket, IN_SCOPE.key)).toMatchObject(denied);
    expect(cs.stack.sandbox.s3.get(IN_SCOPE.bucket, IN_SCOPE.key)).toBeDefined();
  });

  it.each(OUT_OF_SCOPE)("is refused a read out of scope: $bucket/$key", async ({ bucket, key }) => {
    expect(await boto3("get", bucket, key)).toMatchObject(denied);
  });

  it("reads through `credential_process = s3jit credential-process audit` in an AWS config file", async () => {
    const config = path.join(cs.stack.dir, "aws-config");
    writeFileSync(config, `[profile audit]\nregion = eu-west-1\ncredential_process = "${process.execPath}" "${CLI}" credential-process audit\n`);
    // No container variables: the s3jit CLI finds the daemon through the XDG folders alone.
    const env: NodeJS.ProcessEnv = { ...cs.stack.env, AWS_CONFIG_FILE: config, AWS_PROFILE: "audit", AWS_ENDPOINT_URL_S3: cs.stack.sandbox.url };
    expect(await py(env, "whoami")).toMatchObject({ ok: true, accessKeyId: await cs.servedAccessKeyId() });
    expect(await py(env, "get", IN_SCOPE.bucket, IN_SCOPE.key)).toMatchObject({ ok: true, body: seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key) });
    expect(await py(env, "get", "other-bucket", "secret.txt")).toMatchObject(denied);
  });

  it("fails with an error naming the fix after `s3jit revoke audit`", async () => {
    const env = await cs.clientEnv();
    expect((await cs.stack.cli(["revoke", "audit"])).code).toBe(0);
    const out = await py(env, "get", IN_SCOPE.bucket, IN_SCOPE.key);
    expect(out.ok).toBe(false);
    expect(String(out.message)).toMatch(/s3jit grant audit/);
  });
});
