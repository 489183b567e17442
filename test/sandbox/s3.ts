import { randomBytes } from "node:crypto";
import type { SandboxContext } from "./context.js";
import { escapeXml, header, newRequestId, type SandboxRequest, type SandboxResponse } from "./http.js";
import { authenticate, type IssuedSession } from "./iam.js";
import { authorize, type S3Access } from "./s3-authz.js";
import { uploadedBytes } from "./s3-payload.js";
import { DEFAULT_BUCKETS, listPage, S3Store, type BucketSeed, type S3Bucket, type S3Object } from "./s3-store.js";
import { parseAuthorization } from "./sigv4.js";

/**
 * S3 (restXml): GetObject, HeadObject, ListObjectsV2 (and V1), GetBucketLocation, HeadBucket,
 * ListBuckets, PutObject, DeleteObject. Every request is authenticated like STS (SigV4 against
 * the secret the sandbox issued) and then authorized by the caller's session policies at the
 * sandbox clock (s3-authz.ts). Path-style addressing, and virtual-hosted style for
 * `<bucket>.localhost` hosts.
 */

const NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export interface S3Options {
  /** Buckets and objects to start with; default DEFAULT_BUCKETS (audit-logs, reports, other-bucket). */
  buckets?: Record<string, BucketSeed>;
  /** Region of the seeded buckets, default eu-west-1. */
  region?: string;
}

function amzId2(): string {
  return randomBytes(48).toString("base64");
}

export function s3Error(status: number, code: string, message: string, extra: Record<string, string> = {}): SandboxResponse {
  const id = newRequestId();
  const more = Object.entries(extra)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join("");
  return {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": id, "x-amz-id-2": amzId2() },
    body:
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>` +
      `${more}<RequestId>${id}</RequestId></Error>`,
  };
}

const accessDenied = (): SandboxResponse => s3Error(403, "AccessDenied", "Access Denied");

function xml(status: number, body: string, extraHeaders: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": newRequestId(), "x-amz-id-2": amzId2(), ...extraHeaders },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

function empty(status: number, extraHeaders: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { "x-amz-request-id": newRequestId(), "x-amz-id-2": amzId2(), ...extraHeaders }, body: "" };
}

function el(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** Which bucket and key a request names: `<bucket>.localhost` hosts are virtual-hosted, all others path-style. */
export function s3Address(req: SandboxRequest): { bucket?: string; key?: string } {
  const host = (header(req, "host") ?? "").replace(/:\d+$/, "");
  const decode = (s: string): string | undefined => {
    try {
      return decodeURIComponent(s);
    } catch {
      return undefined;
    }
  };
  if (host.endsWith(".localhost")) {
    const key = decode(req.rawPath.slice(1));
    return { bucket: host.slice(0, -".localhost".length), ...(key ? { key } : {}) };
  }
  const path = req.rawPath.slice(1);
  if (path === "") return {};
  const slash = path.indexOf("/");
  const bucket = decode(slash < 0 ? path : path.slice(0, slash));
  const key = slash < 0 ? undefined : decode(path.slice(slash + 1));
  return { ...(bucket ? { bucket } : {}), ...(key ? { key } : {}) };
}

/** The S3 operation a request asks for, from its method, address and query. */
export function s3Action(req: SandboxRequest): string {
  const { bucket, key } = s3Address(req);
  switch (req.method) {
    case "GET":
      if (bucket === undefined) return "ListBuckets";
      if (key !== undefined) return req.query.has("attributes") ? "GetObjectAttributes" : "GetObject";
      if (req.query.has("location")) return "GetBucketLocation";
      if (req.query.has("versions")) return "ListObjectVersions";
      return req.query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    case "HEAD":
      return key !== undefined ? "HeadObject" : "HeadBucket";
    case "PUT":
      return key !== undefined ? "PutObject" : "CreateBucket";
    case "DELETE":
      return key !== undefined ? "DeleteObject" : "DeleteBucket";
    default:
      return `S3${req.method}`;
  }
}

const SUPPORTED = new Set([
  "GetObject", "HeadObject", "GetObjectAttributes", "ListObjectsV2", "ListObjects", "ListObjectVersions", "GetBucketLocation", "HeadBucket", "ListBuckets",
  "PutObject", "DeleteObject",
]);

/** The partition and DNS suffix of a region, as AWS names them (the sandbox's own table). */
export function partitionOf(region: string): { name: string; dnsSuffix: string } {
  if (region.startsWith("cn-")) return { name: "aws-cn", dnsSuffix: "amazonaws.com.cn" };
  if (region.startsWith("us-gov-")) return { name: "aws-us-gov", dnsSuffix: "amazonaws.com" };
  return { name: "aws", dnsSuffix: "amazonaws.com" };
}

/** The IAM action, resource and condition keys AWS evaluates for an operation. */
function accessFor(action: string, bucket: string, key: string, query: URLSearchParams, region = "us-east-1"): S3Access {
  const arn = `arn:${partitionOf(region).name}:s3:::`;
  const objectArn = `${arn}${bucket}/${key}`;
  const bucketArn = `${arn}${bucket}`;
  const version = query.has("versionId");
  switch (action) {
    case "GetObject":
    case "HeadObject":
      return { action: version ? "s3:GetObjectVersion" : "s3:GetObject", resource: objectArn, context: {} };
    case "GetObjectAttributes":
      return { action: version ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes", resource: objectArn, context: {} };
    case "PutObject":
      return { action: "s3:PutObject", resource: objectArn, context: {} };
    case "DeleteObject":
      return { action: "s3:DeleteObject", resource: objectArn, context: {} };
    case "GetBucketLocation":
      return { action: "s3:GetBucketLocation", resource: bucketArn, context: {} };
    case "ListBuckets":
      return { action: "s3:ListAllMyBuckets", resource: "*", context: {} };
    default: {
      // ListObjects(V2), ListObjectVersions and HeadBucket. s3:prefix exists only when the request sends a prefix:
      // a policy that allows listing under "2026/" does not allow listing the whole bucket.
      const context: Record<string, string> = {};
      for (const [param, contextKey] of [
        ["prefix", "s3:prefix"],
        ["delimiter", "s3:delimiter"],
        ["max-keys", "s3:max-keys"],
      ] as const) {
        const value = query.get(param);
        if (value !== null) context[contextKey] = value;
      }
      return { action: action === "ListObjectVersions" ? "s3:ListBucketVersions" : "s3:ListBucket", resource: bucketArn, context };
    }
  }
}

/** S3 names authentication failures differently from STS. */
function authError(code: string, status: number, message: string, knownKey: boolean): SandboxResponse {
  switch (code) {
    case "MissingAuthenticationToken":
      return accessDenied();
    case "IncompleteSignature":
      return s3Error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed.");
    case "InvalidClientTokenId":
      return knownKey
        ? s3Error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
        : s3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    case "ExpiredToken":
      return s3Error(400, "ExpiredToken", "The provided token has expired.");
    default:
      return s3Error(status, code, message);
  }
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

type Range = { start: number; end: number } | "unsatisfiable" | undefined;

function parseRange(value: string | undefined, size: number): Range {
  const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined; // S3 ignores ranges it cannot parse.
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return "unsatisfiable";
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  return end < start ? undefined : { start, end };
}

interface ContinuationToken {
  after: string;
  skipUnder?: string;
}

function encodeToken(token: ContinuationToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64");
}

function decodeToken(raw: string): ContinuationToken | undefined {
  try {
    const value = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as unknown;
    if (typeof value !== "object" || value === null || typeof (value as ContinuationToken).after !== "string") return undefined;
    return value as ContinuationToken;
  } catch {
    return undefined;
  }
}

export class S3Service {
  readonly store: S3Store;

  constructor(
    private readonly ctx: SandboxContext,
    opts: S3Options = {},
  ) {
    const owner = Object.keys(ctx.accounts)[0] ?? "123456789012";
    this.store = new S3Store(ctx.now, opts.buckets ?? DEFAULT_BUCKETS, { region: opts.region ?? "eu-west-1", accountId: owner });
  }

  async handle(req: SandboxRequest, action: string): Promise<SandboxResponse> {
    const auth = await authenticate(req, this.ctx.registry, this.ctx.now());
    if (!auth.ok) {
      const claimed = parseAuthorization(header(req, "authorization"));
      return authError(auth.code, auth.status, auth.message, claimed !== undefined && this.ctx.registry.get(claimed.accessKeyId) !== undefined);
    }
    const signed = parseAuthorization(header(req, "authorization"))!;
    if (signed.service !== "s3") {
      return s3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; incorrect service "${signed.service}". This endpoint belongs to "s3".`);
    }
    if (!SUPPORTED.has(action)) return s3Error(501, "NotImplemented", `The sandbox does not implement S3 ${action}.`);
    const session = auth.session;

    if (action === "ListBuckets") {
      if ((await this.decide(session, accessFor(action, "", "", req.query))) !== "Allowed") return accessDenied();
      return this.listBuckets(session);
    }
    const { bucket: bucketName = "", key = "" } = s3Address(req);
    const bucket = this.store.bucket(bucketName);
    if (!bucket) return s3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: bucketName });
    // S3 refuses a signature scoped to another region than the bucket's (GetBucketLocation is
    // how a client finds the right one, so it answers from anywhere).
    if (action !== "GetBucketLocation" && signed.region !== bucket.region) {
      return s3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${signed.region}' is wrong; expecting '${bucket.region}'`, {
        Region: bucket.region,
      });
    }
    const access = accessFor(action, bucket.name, key, req.query, bucket.region);
    if (bucket.accountId !== session.accountId || (await this.decide(session, access)) !== "Allowed") return accessDenied();

    switch (action) {
      case "GetObject":
      case "HeadObject":
        return this.getObject(req, session, bucket, key, action === "GetObject");
      case "GetObjectAttributes":
        return this.getObjectAttributes(req, session, bucket, key);
      case "ListObjectVersions":
        return this.listVersions(req.query, bucket);
      case "PutObject":
        return this.putObject(req, bucket, key);
      case "DeleteObject":
        this.store.delete(bucket.name, key);
        return empty(204);
      case "GetBucketLocation":
        // us-east-1 is the one region S3 reports as an empty constraint.
        return xml(200, `<LocationConstraint xmlns="${NS}">${bucket.region === "us-east-1" ? "" : escapeXml(bucket.region)}</LocationConstraint>`);
      case "HeadBucket":
        return empty(200, { "x-amz-bucket-region": bucket.region });
      case "ListObjectsV2":
        return this.listV2(req.query, bucket);
      default:
        return this.listV1(req.query, bucket);
    }
  }

  private decide(session: IssuedSession, access: S3Access) {
    return authorize(session, this.ctx.registry, access, this.ctx.now());
  }

  /** The object a read names (its version too), or the error S3 gives for it. */
  private async found(req: SandboxRequest, session: IssuedSession, bucket: S3Bucket, key: string): Promise<S3Object | SandboxResponse> {
    const object = this.store.get(bucket.name, key);
    if (!object) {
      // Without s3:ListBucket a caller may not learn whether a key exists: S3 says 403, not 404.
      const mayList = (await this.decide(session, accessFor("ListObjects", bucket.name, "", new URLSearchParams(), bucket.region))) === "Allowed";
      return mayList ? s3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key }) : accessDenied();
    }
    const version = req.query.get("versionId");
    if (version !== null && version !== "null" && version !== object.versionId) {
      return s3Error(404, "NoSuchVersion", "The specified version does not exist.", { Key: key, VersionId: version });
    }
    return object;
  }

  /**
   * SSE-KMS: S3 asks KMS to decrypt as the caller (a forward access session), through S3 in the
   * bucket's region, with the object's ARN as encryption context — the bucket's with S3 Bucket
   * Keys. The caller's policies decide, encryption-context conditions included.
   */
  private async mayDecrypt(session: IssuedSession, bucket: S3Bucket, object: S3Object): Promise<boolean> {
    if (!object.sse) return true;
    const { name, dnsSuffix } = partitionOf(bucket.region);
    const context = `arn:${name}:s3:::${bucket.name}${object.sse.bucketKey ? "" : `/${object.key}`}`;
    const access: S3Access = {
      action: "kms:Decrypt",
      resource: object.sse.keyId,
      context: { "kms:ViaService": `s3.${bucket.region}.${dnsSuffix}`, "kms:CallerAccount": session.accountId, "kms:EncryptionContext:aws:s3:arn": context },
    };
    return (await this.decide(session, access)) === "Allowed";
  }

  private async getObject(req: SandboxRequest, session: IssuedSession, bucket: S3Bucket, key: string, decrypts: boolean): Promise<SandboxResponse> {
    const object = await this.found(req, session, bucket, key);
    if (!("versionId" in object)) return object;
    // HeadObject reads no data, so S3 asks KMS for nothing.
    if (decrypts && !(await this.mayDecrypt(session, bucket, object))) return accessDenied();
    const headers = this.objectHeaders(object, header(req, "x-amz-checksum-mode") === "ENABLED");
    const range = parseRange(header(req, "range"), object.body.length);
    if (range === "unsatisfiable") return s3Error(416, "InvalidRange", "The requested range is not satisfiable", { RangeRequested: header(req, "range") ?? "" });
    if (range) {
      headers["content-range"] = `bytes ${range.start}-${range.end}/${object.body.length}`;
      return { status: 206, headers, body: object.body.subarray(range.start, range.end + 1) };
    }
    return { status: 200, headers, body: object.body };
  }

  private objectHeaders(object: S3Object, withChecksums: boolean): Record<string, string> {
    return {
      "content-type": object.contentType,
      etag: object.etag,
      "last-modified": httpDate(object.lastModified),
      "accept-ranges": "bytes",
      "x-amz-request-id": newRequestId(),
      "x-amz-id-2": amzId2(),
      "x-amz-version-id": object.versionId,
      ...(object.sse
        ? {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": object.sse.keyId,
            ...(object.sse.bucketKey ? { "x-amz-server-side-encryption-bucket-key-enabled": "true" } : {}),
          }
        : {}),
      ...(withChecksums ? object.checksums : {}),
    };
  }

  /** GetObjectAttributes: metadata only (no decryption), the attributes asked for in x-amz-object-attributes. */
  private async getObjectAttributes(req: SandboxRequest, session: IssuedSession, bucket: S3Bucket, key: string): Promise<SandboxResponse> {
    const object = await this.found(req, session, bucket, key);
    if (!("versionId" in object)) return object;
    const asked = new Set((header(req, "x-amz-object-attributes") ?? "").split(",").map((a) => a.trim()));
    const parts = [
      ...(asked.has("ETag") ? [el("ETag", object.etag.replace(/"/g, ""))] : []),
      ...(asked.has("ObjectSize") ? [el("ObjectSize", object.body.length)] : []),
      ...(asked.has("StorageClass") ? [el("StorageClass", "STANDARD")] : []),
    ];
    return xml(200, `<GetObjectAttributesResponse xmlns="${NS}">${parts.join("")}</GetObjectAttributesResponse>`, {
      "last-modified": httpDate(object.lastModified),
      "x-amz-version-id": object.versionId,
    });
  }

  /** ListObjectVersions: every bucket is versioned and keeps only its latest versions. */
  private listVersions(query: URLSearchParams, bucket: S3Bucket): SandboxResponse {
    const common = this.listParams(query);
    if ("status" in common) return common;
    const keyMarker = query.get("key-marker") ?? "";
    const page = listPage(bucket, { ...common, after: keyMarker });
    const enc = common.encode;
    const versions = page.contents
      .map(
        (o) =>
          `<Version>${el("Key", enc(o.key))}${el("VersionId", o.versionId)}${el("IsLatest", true)}${el("LastModified", isoMillis(o.lastModified))}` +
          `${el("ETag", o.etag)}${el("Size", o.body.length)}${el("StorageClass", "STANDARD")}<Owner>${el("ID", bucket.accountId)}</Owner></Version>`,
      )
      .join("");
    const parts = [
      el("Name", bucket.name),
      el("Prefix", enc(common.prefix)),
      el("KeyMarker", enc(keyMarker)),
      el("VersionIdMarker", query.get("version-id-marker") ?? ""),
      ...(page.isTruncated && page.next ? [el("NextKeyMarker", enc(page.next.after)), el("NextVersionIdMarker", "null")] : []),
      el("MaxKeys", common.maxKeys),
      ...(common.delimiter ? [el("Delimiter", enc(common.delimiter))] : []),
      el("IsTruncated", page.isTruncated),
      ...(common.encodingType ? [el("EncodingType", common.encodingType)] : []),
      versions,
      page.commonPrefixes.map((p) => `<CommonPrefixes>${el("Prefix", enc(p))}</CommonPrefixes>`).join(""),
    ];
    return xml(200, `<ListVersionsResult xmlns="${NS}">${parts.join("")}</ListVersionsResult>`);
  }

  private putObject(req: SandboxRequest, bucket: S3Bucket, key: string): SandboxResponse {
    const upload = uploadedBytes(req);
    if (!upload.ok) return s3Error(upload.status, upload.code, upload.message);
    const contentType = header(req, "content-type");
    const object = this.store.put(bucket.name, key, upload.body, { checksums: upload.checksums, ...(contentType ? { contentType } : {}) });
    return empty(200, { etag: object.etag, ...object.checksums });
  }

  private listBuckets(session: IssuedSession): SandboxResponse {
    const buckets = this.store
      .bucketNames()
      .map((name) => this.store.bucket(name)!)
      .filter((b) => b.accountId === session.accountId)
      .map((b) => `<Bucket>${el("Name", b.name)}${el("CreationDate", isoMillis(b.createdAt))}</Bucket>`)
      .join("");
    return xml(200, `<ListAllMyBucketsResult xmlns="${NS}"><Owner>${el("ID", session.accountId)}</Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`);
  }

  private listV2(query: URLSearchParams, bucket: S3Bucket): SandboxResponse {
    const common = this.listParams(query);
    if ("status" in common) return common;
    const tokenRaw = query.get("continuation-token");
    const token = tokenRaw === null ? undefined : decodeToken(tokenRaw);
    if (tokenRaw !== null && !token) return s3Error(400, "InvalidArgument", "The continuation token provided is incorrect");
    const startAfter = query.get("start-after") ?? "";
    const page = listPage(bucket, { ...common, ...(token ?? { after: startAfter }) });
    const enc = common.encode;
    const parts = [
      el("Name", bucket.name),
      el("Prefix", enc(common.prefix)),
      ...(common.delimiter ? [el("Delimiter", enc(common.delimiter))] : []),
      el("MaxKeys", common.maxKeys),
      el("KeyCount", page.contents.length + page.commonPrefixes.length),
      el("IsTruncated", page.isTruncated),
      ...(tokenRaw !== null ? [el("ContinuationToken", tokenRaw)] : []),
      ...(page.isTruncated && page.next ? [el("NextContinuationToken", encodeToken(page.next))] : []),
      ...(startAfter ? [el("StartAfter", enc(startAfter))] : []),
      ...(common.encodingType ? [el("EncodingType", common.encodingType)] : []),
      this.contentsXml(page.contents, enc, query.get("fetch-owner") === "true" ? bucket.accountId : undefined),
      page.commonPrefixes.map((p) => `<CommonPrefixes>${el("Prefix", enc(p))}</CommonPrefixes>`).join(""),
    ];
    return xml(200, `<ListBucketResult xmlns="${NS}">${parts.join("")}</ListBucketResult>`);
  }

  private listV1(query: URLSearchParams, bucket: S3Bucket): SandboxResponse {
    const common = this.listParams(query);
    if ("status" in common) return common;
    const marker = query.get("marker") ?? "";
    const afterPrefix = common.delimiter !== "" && marker.endsWith(common.delimiter);
    const page = listPage(bucket, { ...common, after: marker, ...(afterPrefix ? { skipUnder: marker } : {}) });
    const enc = common.encode;
    // V1 sends NextMarker only with a delimiter; without one the client resumes after the last key.
    const nextMarker = page.isTruncated && common.delimiter && page.next ? [el("NextMarker", enc(page.next.after))] : [];
    const parts = [
      el("Name", bucket.name),
      el("Prefix", enc(common.prefix)),
      el("Marker", enc(marker)),
      ...nextMarker,
      el("MaxKeys", common.maxKeys),
      ...(common.delimiter ? [el("Delimiter", enc(common.delimiter))] : []),
      el("IsTruncated", page.isTruncated),
      ...(common.encodingType ? [el("EncodingType", common.encodingType)] : []),
      this.contentsXml(page.contents, enc, bucket.accountId),
      page.commonPrefixes.map((p) => `<CommonPrefixes>${el("Prefix", enc(p))}</CommonPrefixes>`).join(""),
    ];
    return xml(200, `<ListBucketResult xmlns="${NS}">${parts.join("")}</ListBucketResult>`);
  }

  private listParams(
    query: URLSearchParams,
  ): { prefix: string; delimiter: string; maxKeys: number; encodingType: string; encode: (s: string) => string } | SandboxResponse {
    const rawMax = query.get("max-keys");
    if (rawMax !== null && !/^\d+$/.test(rawMax)) return s3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range");
    const encodingType = query.get("encoding-type") ?? "";
    if (encodingType !== "" && encodingType !== "url") return s3Error(400, "InvalidArgument", "Invalid Encoding Method specified in Request");
    // With encoding-type=url S3 percent-encodes names in the answer and clients decode them
    // (botocore asks for it on every listing).
    const encode = encodingType === "url" ? (s: string) => encodeURIComponent(s).replace(/%2F/g, "/") : (s: string) => s;
    return {
      prefix: query.get("prefix") ?? "",
      delimiter: query.get("delimiter") ?? "",
      maxKeys: rawMax === null ? 1000 : Math.min(Number(rawMax), 1000),
      encodingType,
      encode,
    };
  }

  private contentsXml(objects: S3Object[], enc: (s: string) => string, owner: string | undefined): string {
    return objects
      .map(
        (o) =>
          `<Contents>${el("Key", enc(o.key))}${el("LastModified", isoMillis(o.lastModified))}${el("ETag", o.etag)}${el("Size", o.body.length)}` +
          `${owner !== undefined ? `<Owner>${el("ID", owner)}</Owner>` : ""}${el("StorageClass", "STANDARD")}</Contents>`,
      )
      .join("");
  }
}

export type { BucketSeed, S3Store } from "./s3-store.js";
