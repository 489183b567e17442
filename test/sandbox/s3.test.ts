import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetScopedCredentialsCommand, STSClient } from "@aws-sdk/client-sts";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import type { SandboxRequest } from "./http.js";
import { s3Action, s3Address } from "./s3.js";
import { listPage, S3Store } from "./s3-store.js";
import { deviceCodeRoleCredentials, sdkClients, type Creds } from "../helpers/sdk-clients.js";
import { startSandbox, type Sandbox } from "./server.js";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const MINUTE = 60_000;

/** The shape of the session policy s3jit mints with (DESIGN.md §3): reads in scope, two denies. */
function auditPolicy(windowEndMs: number): string {
  const reads = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: ["arn:aws:s3:::audit-logs/2026/*", "arn:aws:s3:::reports/*"] },
      { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::audit-logs", Condition: { StringLike: { "s3:prefix": ["2026/*"] } } },
      { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::reports" },
      { Effect: "Allow", Action: "s3:GetBucketLocation", Resource: ["arn:aws:s3:::audit-logs", "arn:aws:s3:::reports"] },
      { Effect: "Deny", NotAction: reads, Resource: "*" },
      { Effect: "Deny", Action: "*", Resource: "*", Condition: { DateGreaterThanEquals: { "aws:CurrentTime": new Date(windowEndMs).toISOString().replace(/\.\d{3}Z$/, "Z") } } },
    ],
  });
}

let sandbox: Sandbox;
let clock: ManualClock;
const { track, destroyAll } = sdkClients();

beforeEach(async () => {
  clock = new ManualClock();
  sandbox = await startSandbox({ now: () => clock.now(), autoApprove: true });
});

afterEach(async () => {
  destroyAll();
  await sandbox.close();
});

/** Role credentials of the permission set (no session policy), through a real device-code login. */
const baseCredentials = () => deviceCodeRoleCredentials(sandbox.url, "s3-test");

/** What s3jit hands out: scoped credentials narrowed to the audit profile until `windowEndMs`. */
async function auditCredentials(windowEndMs = clock.now() + 30 * MINUTE, durationSeconds = 3600): Promise<Creds> {
  const base = await baseCredentials();
  const sts = track(new STSClient({ region: REGION, endpoint: sandbox.url, credentials: base }));
  const out = await sts.send(new GetScopedCredentialsCommand({ Policy: auditPolicy(windowEndMs), DurationSeconds: durationSeconds }));
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

function s3(credentials: Creds, region = REGION): S3Client {
  return track(new S3Client({ region, endpoint: sandbox.url, forcePathStyle: true, credentials, maxAttempts: 1 }));
}

async function text(client: S3Client, Bucket: string, Key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket, Key }));
  return out.Body!.transformToString();
}

const md5 = (s: string | Buffer) => createHash("md5").update(s).digest("hex");

describe("sandbox S3: reads inside the session policy", () => {
  it("GetObject returns the seeded object with its real ETag, length and Last-Modified", async () => {
    const client = s3(await auditCredentials());
    const out = await client.send(new GetObjectCommand({ Bucket: "audit-logs", Key: "2026/01/report.json" }));
    const body = await out.Body!.transformToString();
    expect(JSON.parse(body)).toMatchObject({ month: "2026-01" });
    expect(out.ETag).toBe(`"${md5(body)}"`);
    expect(out.ContentLength).toBe(Buffer.byteLength(body));
    expect(out.ContentType).toBe("application/json");
    expect(out.LastModified!.getTime()).toBe(Math.floor(clock.now() / 1000) * 1000);
    expect(await text(client, "reports", "q1.csv")).toContain("Q1,1000");
  });

  it("HeadObject answers the same headers without a body; a Range gets 206 and the slice", async () => {
    const client = s3(await auditCredentials());
    const head = await client.send(new HeadObjectCommand({ Bucket: "reports", Key: "q1.csv" }));
    const object = sandbox.s3.get("reports", "q1.csv")!;
    expect(head.ContentLength).toBe(object.body.length);
    expect(head.ETag).toBe(object.etag);
    const part = await client.send(new GetObjectCommand({ Bucket: "reports", Key: "q1.csv", Range: "bytes=0-6" }));
    expect(part.$metadata.httpStatusCode).toBe(206);
    expect(await part.Body!.transformToString()).toBe("quarter");
    expect(part.ContentRange).toBe(`bytes 0-6/${object.body.length}`);
  });

  it("ListObjectsV2 honours prefix, delimiter, max-keys and continuation", async () => {
    const client = s3(await auditCredentials());
    const folders = await client.send(new ListObjectsV2Command({ Bucket: "audit-logs", Prefix: "2026/", Delimiter: "/" }));
    expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["2026/01/", "2026/02/"]);
    expect(folders.Contents).toBeUndefined();
    expect(folders.KeyCount).toBe(2);

    const first = await client.send(new ListObjectsV2Command({ Bucket: "audit-logs", Prefix: "2026/", MaxKeys: 1 }));
    expect(first.IsTruncated).toBe(true);
    expect(first.Contents?.map((c) => c.Key)).toEqual(["2026/01/report.json"]);
    expect(first.Contents![0]!.Size).toBe(sandbox.s3.get("audit-logs", "2026/01/report.json")!.body.length);
    const second = await client.send(new ListObjectsV2Command({ Bucket: "audit-logs", Prefix: "2026/", MaxKeys: 1, ContinuationToken: first.NextContinuationToken! }));
    expect(second.Contents?.map((c) => c.Key)).toEqual(["2026/02/report.json"]);
    expect(second.IsTruncated).toBe(false);
    expect(second.NextContinuationToken).toBeUndefined();
  });

  it("GetBucketLocation names the bucket's region", async () => {
    const client = s3(await auditCredentials());
    const out = await client.send(new GetBucketLocationCommand({ Bucket: "audit-logs" }));
    expect(out.LocationConstraint).toBe(REGION);
  });
});

describe("sandbox S3: what the session policy refuses", () => {
  const denied = { name: "AccessDenied", message: "Access Denied", $metadata: { httpStatusCode: 403 } };

  it("refuses writes and deletes inside the scope, and leaves the object alone", async () => {
    const client = s3(await auditCredentials());
    const before = sandbox.s3.get("audit-logs", "2026/01/report.json")!.etag;
    await expect(client.send(new PutObjectCommand({ Bucket: "audit-logs", Key: "2026/01/report.json", Body: "overwritten" }))).rejects.toMatchObject(denied);
    await expect(client.send(new DeleteObjectCommand({ Bucket: "audit-logs", Key: "2026/01/report.json" }))).rejects.toMatchObject(denied);
    expect(sandbox.s3.get("audit-logs", "2026/01/report.json")!.etag).toBe(before);
    expect(sandbox.requests.filter((r) => r.service === "s3").map((r) => [r.action, r.status])).toEqual([
      ["PutObject", 403],
      ["DeleteObject", 403],
    ]);
  });

  it("refuses reads and listings outside the scope", async () => {
    const client = s3(await auditCredentials());
    await expect(text(client, "other-bucket", "secret.txt")).rejects.toMatchObject(denied);
    await expect(text(client, "audit-logs", "2025/12/old.json")).rejects.toMatchObject(denied);
    await expect(client.send(new ListObjectsV2Command({ Bucket: "audit-logs", Prefix: "2025/" }))).rejects.toMatchObject(denied);
    // No prefix at all is a listing of the whole bucket, which the s3:prefix condition does not allow.
    await expect(client.send(new ListObjectsV2Command({ Bucket: "audit-logs" }))).rejects.toMatchObject(denied);
    await expect(client.send(new HeadObjectCommand({ Bucket: "other-bucket", Key: "secret.txt" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });

  it("says AccessDenied, not NoSuchKey, for a missing key the caller may not list", async () => {
    const scoped = s3(await auditCredentials());
    await expect(text(scoped, "audit-logs", "2026/03/none.json")).rejects.toMatchObject(denied);
    const base = s3(await baseCredentials());
    await expect(text(base, "audit-logs", "2026/03/none.json")).rejects.toMatchObject({ name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });
    await expect(text(base, "no-such-bucket", "x")).rejects.toMatchObject({ name: "NoSuchBucket", $metadata: { httpStatusCode: 404 } });
  });

  it("refuses everything once the sandbox clock reaches the window's end, then the token expires", async () => {
    const client = s3(await auditCredentials(clock.now() + 10 * MINUTE, 3600));
    expect(await text(client, "reports", "q1.csv")).toContain("Q1");
    clock.advance(10 * MINUTE);
    await expect(text(client, "reports", "q1.csv")).rejects.toMatchObject(denied);
    clock.advance(60 * MINUTE);
    await expect(text(client, "reports", "q1.csv")).rejects.toMatchObject({ name: "ExpiredToken", message: "The provided token has expired.", $metadata: { httpStatusCode: 400 } });
  });

  it("answers in S3's XML error format", async () => {
    const creds = await auditCredentials();
    const res = await signedFetch(creds, "GET", "/other-bucket/secret.txt");
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/xml");
    const body = await res.text();
    expect(body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>Access Denied<\/Message><RequestId>[\w-]+<\/RequestId><\/Error>$/);
    expect(body).toContain(res.headers.get("x-amz-request-id"));
  });
});

describe("sandbox S3: authentication", () => {
  it("refuses a wrong secret, an unknown key, a wrong region and an unsigned request", async () => {
    const creds = await auditCredentials();
    await expect(text(s3({ ...creds, secretAccessKey: `${creds.secretAccessKey}x` }), "reports", "q1.csv")).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
    await expect(text(s3({ ...creds, accessKeyId: "ASIAUNKNOWNUNKNOWN00" }), "reports", "q1.csv")).rejects.toMatchObject({
      name: "InvalidAccessKeyId",
      $metadata: { httpStatusCode: 403 },
    });
    await expect(text(s3({ ...creds, sessionToken: "forged" }), "reports", "q1.csv")).rejects.toMatchObject({ name: "InvalidToken" });
    await expect(text(s3(creds, "us-west-2"), "reports", "q1.csv")).rejects.toMatchObject({ name: "AuthorizationHeaderMalformed", Region: REGION });
    const anonymous = await fetch(`${sandbox.url}/reports/q1.csv`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain("<Code>AccessDenied</Code>");
  });

  it("refuses a body changed after signing", async () => {
    const base = await baseCredentials();
    const res = await signedFetch(base, "PUT", "/reports/new.txt", "signed body", "tampered body");
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("SignatureDoesNotMatch");
    expect(sandbox.s3.get("reports", "new.txt")).toBeUndefined();
  });
});

describe("sandbox S3: writes where the identity allows them (permission-set credentials, no session policy)", () => {
  it("PutObject stores the bytes (checksummed string, aws-chunked stream, binary), DeleteObject removes them", async () => {
    const client = s3(await baseCredentials());
    const put = await client.send(new PutObjectCommand({ Bucket: "reports", Key: "q2.csv", Body: "quarter,revenue\nQ2,2000\n" }));
    expect(put.ETag).toBe(`"${md5("quarter,revenue\nQ2,2000\n")}"`);
    expect(await text(client, "reports", "q2.csv")).toBe("quarter,revenue\nQ2,2000\n");

    const streamed = Buffer.from("streamed ".repeat(5000));
    await client.send(new PutObjectCommand({ Bucket: "reports", Key: "stream.txt", Body: Readable.from([streamed]), ContentLength: streamed.length }));
    expect(sandbox.s3.get("reports", "stream.txt")!.body.equals(streamed)).toBe(true);

    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await client.send(new PutObjectCommand({ Bucket: "reports", Key: "bytes.bin", Body: binary }));
    const back = await client.send(new GetObjectCommand({ Bucket: "reports", Key: "bytes.bin" }));
    expect(Buffer.from(await back.Body!.transformToByteArray()).equals(binary)).toBe(true);

    const del = await client.send(new DeleteObjectCommand({ Bucket: "reports", Key: "q2.csv" }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect(sandbox.s3.get("reports", "q2.csv")).toBeUndefined();
  });

  it("refuses an upload whose checksum does not match its bytes", async () => {
    const client = s3(await baseCredentials());
    await expect(
      client.send(new PutObjectCommand({ Bucket: "reports", Key: "bad.csv", Body: "data", ChecksumCRC32: "AAAAAA==" })),
    ).rejects.toMatchObject({ name: "BadDigest", $metadata: { httpStatusCode: 400 } });
    expect(sandbox.s3.get("reports", "bad.csv")).toBeUndefined();
  });

  it("ListObjects (V1) pages with NextMarker when a delimiter is set", async () => {
    const client = s3(await baseCredentials());
    const first = await client.send(new ListObjectsCommand({ Bucket: "audit-logs", Delimiter: "/", MaxKeys: 1 }));
    expect(first.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["2025/"]);
    expect(first.IsTruncated).toBe(true);
    const second = await client.send(new ListObjectsCommand({ Bucket: "audit-logs", Delimiter: "/", Marker: first.NextMarker! }));
    expect(second.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["2026/"]);
    expect(second.IsTruncated).toBe(false);
  });
});

describe("sandbox S3: addressing and listing (pure)", () => {
  const req = (method: string, rawPath: string, host = "127.0.0.1:1", query = ""): SandboxRequest => ({
    method,
    rawPath,
    query: new URLSearchParams(query),
    headers: { host },
    body: Buffer.alloc(0),
  });

  it.each([
    ["GET", "/", "", "ListBuckets", {}],
    ["GET", "/audit-logs", "list-type=2&prefix=2026%2F", "ListObjectsV2", { bucket: "audit-logs" }],
    ["GET", "/audit-logs/", "location=", "GetBucketLocation", { bucket: "audit-logs" }],
    ["GET", "/audit-logs/2026/01/a%20b.json", "", "GetObject", { bucket: "audit-logs", key: "2026/01/a b.json" }],
    ["HEAD", "/reports/q1.csv", "", "HeadObject", { bucket: "reports", key: "q1.csv" }],
    ["PUT", "/reports/x", "", "PutObject", { bucket: "reports", key: "x" }],
    ["DELETE", "/reports/x", "", "DeleteObject", { bucket: "reports", key: "x" }],
  ])("%s %s?%s is %s", (method, path, query, action, address) => {
    const r = req(method, path, "127.0.0.1:1", query);
    expect(s3Action(r)).toBe(action);
    expect(s3Address(r)).toEqual(address);
  });

  it("reads the bucket from a virtual-hosted <bucket>.localhost host", () => {
    const r = req("GET", "/2026/01/report.json", "audit-logs.localhost:4567");
    expect(s3Address(r)).toEqual({ bucket: "audit-logs", key: "2026/01/report.json" });
    expect(s3Action(r)).toBe("GetObject");
  });

  it("pages through common prefixes without repeating one", () => {
    const store = new S3Store(() => 0, { b: { "a/1": "", "a/2": "", "b/1": "", c: "", "d/1": "" } }, { region: REGION, accountId: ACCOUNT });
    const bucket = store.bucket("b")!;
    const seen: string[] = [];
    let next: { after: string; skipUnder?: string } | undefined = { after: "" };
    while (next) {
      const page = listPage(bucket, { prefix: "", delimiter: "/", maxKeys: 1, ...next });
      seen.push(...page.commonPrefixes, ...page.contents.map((o) => o.key));
      next = page.isTruncated ? page.next : undefined;
    }
    expect(seen).toEqual(["a/", "b/", "c", "d/"]);
  });
});

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super("sha256", secret);
  }
}

/** A SigV4-signed request made by hand, to see the raw answer, or to send other bytes than were signed. */
async function signedFetch(creds: Creds, method: string, path: string, signedBody?: string, sentBody = signedBody): Promise<Response> {
  const url = new URL(sandbox.url);
  const body = signedBody ?? "";
  const request = new HttpRequest({
    method,
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path,
    headers: { host: url.host, "x-amz-content-sha256": createHash("sha256").update(body).digest("hex") },
    ...(signedBody !== undefined ? { body: signedBody } : {}),
  });
  const signer = new SignatureV4({ credentials: creds, region: REGION, service: "s3", sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign(request);
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== "host"));
  return fetch(`${sandbox.url}${path}`, { method, headers, ...(sentBody !== undefined ? { body: sentBody } : {}) });
}
