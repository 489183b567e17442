import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, fixtureResult, IN_SCOPE, lastS3Signer, OUT_OF_SCOPE, runProcess, seeded, startClientStack, type ClientStack } from "./harness.js";

/**
 * The AWS SDK for JavaScript v3 (@aws-sdk/client-s3, default credential chain) in its own
 * process, configured only by `s3jit env audit`. It reads AWS_ENDPOINT_URL_S3 itself.
 */

const SCRIPT = path.join(FIXTURES, "js-s3.mjs");

describe("AWS SDK for JavaScript v3 through s3jit", () => {
  let cs: ClientStack;
  beforeAll(async () => {
    cs = await startClientStack();
  });
  afterAll(async () => {
    await cs?.close();
  });

  const js = async (...args: string[]) => fixtureResult(await runProcess(process.execPath, [SCRIPT, ...args], { env: await cs.clientEnv() }));
  const denied = { ok: false, name: "AccessDenied", message: "Access Denied", status: 403 };

  it("uses the credentials the daemon serves", async () => {
    expect(await js("whoami")).toMatchObject({ ok: true, accessKeyId: await cs.servedAccessKeyId() });
  });

  it("prints nothing on stderr: `s3jit env` sets one token variable, not both", async () => {
    // With both the token and the token file set the SDK warns twice per client (and sends the variable).
    const env = await cs.clientEnv();
    expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN).toBeDefined();
    expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).toBeUndefined();
    const p = await runProcess(process.execPath, [SCRIPT, "whoami"], { env });
    expect(fixtureResult(p).ok).toBe(true);
    expect(p.stderr).toBe("");
  });

  it("with --token-file: reads the token's file, nothing on stderr", async () => {
    const r = await cs.stack.cli(["env", "audit", "--json", "--token-file"]);
    expect(r.code, r.stderr).toBe(0);
    const vars = JSON.parse(r.stdout) as { set: Record<string, string>; unset: string[] };
    expect(vars.unset).toContain("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const env: NodeJS.ProcessEnv = { ...(await cs.clientEnv()), ...vars.set };
    for (const k of vars.unset) delete env[k];
    const p = await runProcess(process.execPath, [SCRIPT, "whoami"], { env });
    expect(fixtureResult(p)).toMatchObject({ ok: true, accessKeyId: await cs.servedAccessKeyId() });
    expect(p.stderr).toBe("");
  });

  it("reads an object in scope", async () => {
    const out = await js("get", IN_SCOPE.bucket, IN_SCOPE.key);
    expect(out).toMatchObject({ ok: true, body: seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key) });
    expect(lastS3Signer(cs.stack)).toBe(await cs.servedAccessKeyId());
  });

  it("lists inside the scope, and is refused a listing outside it", async () => {
    expect(await js("list", "audit-logs", "2026/", "/")).toMatchObject({ ok: true, prefixes: ["2026/01/", "2026/02/"] });
    expect(await js("list", "audit-logs", "2025/")).toMatchObject(denied);
  });

  it("is refused a write", async () => {
    expect(await js("put", IN_SCOPE.bucket, "2026/01/new.json", "{}")).toMatchObject(denied);
    expect(cs.stack.sandbox.s3.get(IN_SCOPE.bucket, "2026/01/new.json")).toBeUndefined();
  });

  it("is refused a delete", async () => {
    expect(await js("delete", IN_SCOPE.bucket, IN_SCOPE.key)).toMatchObject(denied);
    expect(cs.stack.sandbox.s3.get(IN_SCOPE.bucket, IN_SCOPE.key)).toBeDefined();
  });

  it.each(OUT_OF_SCOPE)("is refused a read out of scope: $bucket/$key", async ({ bucket, key }) => {
    expect(await js("get", bucket, key)).toMatchObject(denied);
  });

  it("fails after `s3jit revoke audit`; the SDK drops the endpoint's reason, `s3jit status` names it", async () => {
    const env = await cs.clientEnv();
    expect((await cs.stack.cli(["revoke", "audit"])).code).toBe(0);
    const p = await runProcess(process.execPath, [SCRIPT, "get", IN_SCOPE.bucket, IN_SCOPE.key], { env });
    expect(p.code).toBe(1);
    // credential-provider-http keeps only "Server responded with status: 403" and the default
    // chain then reports that no provider worked: the daemon's message never reaches the user.
    expect(fixtureResult(p)).toMatchObject({ ok: false, name: "CredentialsProviderError", message: "Could not load credentials from any providers" });
    const status = JSON.parse((await cs.stack.cli(["status", "--json"])).stdout) as { profiles: Record<string, { lastRefusal: { code: string } | null }> };
    expect(status.profiles.audit!.lastRefusal?.code).toBe("WindowClosed");
  });

});
