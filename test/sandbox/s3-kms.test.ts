import {
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ObjectAttributes,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetScopedCredentialsCommand, STSClient } from "@aws-sdk/client-sts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { buildSessionPolicy } from "../../src/policy/build.js";
import { deviceCodeRoleCredentials, sdkClients, type Creds } from "../helpers/sdk-clients.js";
import { startSandbox, type Sandbox } from "./server.js";

/**
 * The sandbox's S3 + KMS path with the policies s3jit builds, through the real JS SDK clients:
 * SSE-KMS reads decide kms:Decrypt with S3's encryption context (which @cloud-copilot/iam-simulate
 * alone would ignore), versions and attributes are listed and read as the policy allows, keys
 * in Japanese are read, and STS applies its character rule to the Policy parameter.
 */

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const MINUTE = 60_000;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const JAPANESE = "2026/レポート/一月の売上.csv";

let sandbox: Sandbox;
let clock: ManualClock;
const { track, destroyAll } = sdkClients();

beforeEach(async () => {
  clock = new ManualClock();
  sandbox = await startSandbox({ now: () => clock.now(), autoApprove: true });
  sandbox.s3.put("audit-logs", "2026/03/kms.json", Buffer.from('{"sse":"kms"}\n'), { sse: { keyId: KEY } });
  sandbox.s3.put("audit-logs", "2026/03/bucket-key.json", Buffer.from('{"sse":"kms","bucketKey":true}\n'), { sse: { keyId: KEY, bucketKey: true } });
  sandbox.s3.put("audit-logs", "2026/03/other-key.json", Buffer.from('{"sse":"other"}\n'), { sse: { keyId: OTHER_KEY } });
  sandbox.s3.put("audit-logs", "2025/12/kms.json", Buffer.from('{"old":true}\n'), { sse: { keyId: KEY } });
  sandbox.s3.put("audit-logs", JAPANESE, Buffer.from("月,売上\n1,100\n"));
});

afterEach(async () => {
  destroyAll();
  await sandbox.close();
});

const baseCredentials = () => deviceCodeRoleCredentials(sandbox.url, "kms-test");

async function scoped(policy: string): Promise<Creds> {
  const sts = track(new STSClient({ region: REGION, endpoint: sandbox.url, credentials: await baseCredentials() }));
  const c = (await sts.send(new GetScopedCredentialsCommand({ Policy: policy, DurationSeconds: 3600 }))).Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

const policyFor = (scope: string[], kmsKeys?: string[]) =>
  buildSessionPolicy({
    scope: scope.map((s) => ({ bucket: s.split("/")[0]!, prefix: s.includes("/") ? s.slice(s.indexOf("/") + 1) : "" })),
    region: REGION,
    ...(kmsKeys ? { kmsKeys } : {}),
    windowEnd: clock.now() + 30 * MINUTE,
  });

const s3 = (credentials: Creds) => track(new S3Client({ region: REGION, endpoint: sandbox.url, forcePathStyle: true, credentials, maxAttempts: 1 }));
const read = async (c: S3Client, Key: string, Bucket = "audit-logs") => (await c.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
const refused = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });

describe("sandbox STS: the Policy parameter", () => {
  it("refuses characters outside [\\u0009\\u000A\\u000D\\u0020-\\u00FF] as STS does, and takes the same policy as \\u escapes", async () => {
    const policy = policyFor(["audit-logs/2026/レポート/"]);
    const raw = JSON.stringify(JSON.parse(policy));
    expect(raw).toContain("レポート");
    await expect(scoped(raw)).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringMatching(/Value at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: \[\\u0009\\u000A\\u000D\\u0020-\\u00FF\]\+/),
    });
    const c = s3(await scoped(policy));
    expect(await read(c, JAPANESE)).toBe("月,売上\n1,100\n");
  });

  it("refuses a policy over 2048 characters", async () => {
    const long = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::audit-logs/${"x".repeat(2048)}` }] });
    await expect(scoped(long)).rejects.toMatchObject({ name: "PackedPolicyTooLargeException" });
  });
});

describe("sandbox S3 + KMS: SSE-KMS reads under s3jit's policy", () => {
  it("reads an in-scope SSE-KMS object with no key ARNs configured, under an S3 Bucket Key too; says which key", async () => {
    const c = s3(await scoped(policyFor(["audit-logs/2026/"])));
    const out = await c.send(new GetObjectCommand({ Bucket: "audit-logs", Key: "2026/03/kms.json" }));
    expect(await out.Body!.transformToString()).toBe('{"sse":"kms"}\n');
    expect(out.ServerSideEncryption).toBe("aws:kms");
    expect(out.SSEKMSKeyId).toBe(KEY);
    expect(await read(c, "2026/03/bucket-key.json")).toContain("bucketKey");
    expect(await read(c, "2026/03/other-key.json")).toContain("other");
    await refused(read(c, "2025/12/kms.json"));
  });

  it("decides kms:Decrypt on S3's encryption context: an object the GET may read is not decrypted when its context is outside the policy's contexts", async () => {
    // The builder's policy with the context Deny narrowed to one other prefix: the GET itself is
    // still allowed (the plain object reads), so only the encryption-context condition refuses.
    const policy = policyFor(["audit-logs/2026/"]).replace(
      /("kms:EncryptionContext:aws:s3:arn":)\[[^\]]*\]/,
      `$1["arn:aws:s3:::audit-logs/2026/01/*"]`,
    );
    expect(policy).toContain('"kms:EncryptionContext:aws:s3:arn":["arn:aws:s3:::audit-logs/2026/01/*"]');
    const c = s3(await scoped(policy));
    expect(await read(c, "2026/01/report.json")).toContain("2026-01");
    expect(await read(c, JAPANESE)).toContain("売上");
    await refused(read(c, "2026/03/kms.json"));
    // With S3 Bucket Keys the context is the bucket's ARN, which this policy does not name either.
    await refused(read(c, "2026/03/bucket-key.json"));
    // HeadObject needs no decryption, as on S3.
    expect((await c.send(new HeadObjectCommand({ Bucket: "audit-logs", Key: "2026/03/kms.json" }))).ServerSideEncryption).toBe("aws:kms");
  });

  it("reads an SSE-KMS object in a bucket of another region than the profile's (S3 there asks KMS there)", async () => {
    sandbox.s3.createBucket("us-data", { region: "us-east-1" });
    const usKey = `arn:aws:kms:us-east-1:${ACCOUNT}:key/eeeeeeee-12ab-34cd-56ef-1234567890ab`;
    sandbox.s3.put("us-data", "2026/x.json", Buffer.from("{}\n"), { sse: { keyId: usKey } });
    const credentials = await scoped(policyFor(["us-data/2026/"]));
    const c = track(new S3Client({ region: "us-east-1", endpoint: sandbox.url, forcePathStyle: true, credentials, maxAttempts: 1 }));
    expect(await read(c, "2026/x.json", "us-data")).toBe("{}\n");
  });

  it("with kms_keys, decrypts only under the listed keys", async () => {
    const c = s3(await scoped(policyFor(["audit-logs/2026/"], [KEY])));
    expect(await read(c, "2026/03/kms.json")).toContain("kms");
    await refused(read(c, "2026/03/other-key.json"));
  });

  it("refuses every SSE-KMS read once the window has ended", async () => {
    const c = s3(await scoped(policyFor(["audit-logs/2026/"])));
    clock.advance(30 * MINUTE);
    await refused(read(c, "2026/03/kms.json"));
  });
});

describe("sandbox S3: versions and attributes under s3jit's policy", () => {
  it("lists object versions under the scoped prefix, and refuses them outside it or without a prefix", async () => {
    const c = s3(await scoped(policyFor(["audit-logs/2026/"])));
    const out = await c.send(new ListObjectVersionsCommand({ Bucket: "audit-logs", Prefix: "2026/" }));
    const keys = (out.Versions ?? []).map((v) => v.Key);
    expect(keys).toContain("2026/01/report.json");
    expect(keys).toContain(JAPANESE);
    expect(keys.every((k) => k!.startsWith("2026/"))).toBe(true);
    const v = out.Versions!.find((x) => x.Key === "2026/01/report.json")!;
    expect(v.IsLatest).toBe(true);
    expect(v.VersionId).toMatch(/^\S+$/);
    // The version just listed can be read by its id.
    const got = await c.send(new GetObjectCommand({ Bucket: "audit-logs", Key: v.Key!, VersionId: v.VersionId! }));
    expect(await got.Body!.transformToString()).toContain("2026-01");
    await refused(c.send(new ListObjectVersionsCommand({ Bucket: "audit-logs", Prefix: "2025/" })));
    await refused(c.send(new ListObjectVersionsCommand({ Bucket: "audit-logs" })));
  });

  it("answers GetObjectAttributes in scope and refuses it outside", async () => {
    const c = s3(await scoped(policyFor(["audit-logs/2026/"])));
    const out = await c.send(
      new GetObjectAttributesCommand({ Bucket: "audit-logs", Key: "2026/01/report.json", ObjectAttributes: [ObjectAttributes.OBJECT_SIZE, ObjectAttributes.ETAG] }),
    );
    expect(out.ObjectSize).toBe(sandbox.s3.get("audit-logs", "2026/01/report.json")!.body.length);
    expect(out.ETag).toMatch(/^[0-9a-f]{32}$/);
    await refused(c.send(new GetObjectAttributesCommand({ Bucket: "audit-logs", Key: "2025/12/old.json", ObjectAttributes: [ObjectAttributes.OBJECT_SIZE] })));
  });
});
