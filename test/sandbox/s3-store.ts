import { createHash, randomBytes } from "node:crypto";

/** The sandbox's S3 data: buckets and their objects, in memory. */

export interface S3Object {
  key: string;
  body: Buffer;
  /** Quoted, as S3 sends it: `"<md5 hex>"` for single-part uploads. */
  etag: string;
  /** Epoch ms on the sandbox clock. */
  lastModified: number;
  contentType: string;
  /** `x-amz-checksum-*` values sent with the upload, echoed on reads as S3 does. */
  checksums: Record<string, string>;
  /** Every object is a version (the buckets are versioned); only the latest is kept. */
  versionId: string;
  /** SSE-KMS: reading it needs kms:Decrypt on this key, asked by S3 as the caller. */
  sse?: ServerSideEncryption;
}

export interface ServerSideEncryption {
  /** The key's ARN. */
  keyId: string;
  /** S3 Bucket Key: S3 asks KMS with the bucket's ARN as encryption context, not the object's. */
  bucketKey?: boolean;
}

export interface S3Bucket {
  name: string;
  region: string;
  /** The account that owns it; requests from other accounts need a bucket policy (none here). */
  accountId: string;
  /** Epoch ms on the sandbox clock. */
  createdAt: number;
  objects: Map<string, S3Object>;
}

/** What a bucket is seeded with: key → content (string or bytes). */
export type BucketSeed = Record<string, string | Buffer>;

export const DEFAULT_BUCKETS: Record<string, BucketSeed> = {
  "audit-logs": {
    "2026/01/report.json": '{"month":"2026-01","events":1289,"denied":3}\n',
    "2026/02/report.json": '{"month":"2026-02","events":1402,"denied":0}\n',
    "2025/12/old.json": '{"month":"2025-12","events":977,"denied":1}\n',
  },
  reports: {
    "q1.csv": "quarter,revenue\nQ1,1000\n",
  },
  "other-bucket": {
    "secret.txt": "not for the audit profile\n",
  },
};

function contentTypeFor(key: string): string {
  if (key.endsWith(".json")) return "application/json";
  if (key.endsWith(".csv")) return "text/csv";
  if (key.endsWith(".txt")) return "text/plain";
  return "binary/octet-stream";
}

export class S3Store {
  private readonly buckets = new Map<string, S3Bucket>();

  constructor(
    private readonly now: () => number,
    seed: Record<string, BucketSeed>,
    private readonly defaults: { region: string; accountId: string },
  ) {
    for (const [name, objects] of Object.entries(seed)) {
      this.createBucket(name);
      for (const [key, body] of Object.entries(objects)) this.put(name, key, typeof body === "string" ? Buffer.from(body) : body);
    }
  }

  createBucket(name: string, opts: { region?: string; accountId?: string } = {}): S3Bucket {
    const bucket: S3Bucket = {
      name,
      region: opts.region ?? this.defaults.region,
      accountId: opts.accountId ?? this.defaults.accountId,
      createdAt: this.now(),
      objects: new Map(),
    };
    this.buckets.set(name, bucket);
    return bucket;
  }

  bucket(name: string): S3Bucket | undefined {
    return this.buckets.get(name);
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  get(bucket: string, key: string): S3Object | undefined {
    return this.buckets.get(bucket)?.objects.get(key);
  }

  put(bucket: string, key: string, body: Buffer, opts: { contentType?: string; checksums?: Record<string, string>; sse?: ServerSideEncryption } = {}): S3Object {
    const target = this.buckets.get(bucket);
    if (!target) throw new Error(`sandbox: no bucket ${bucket}`);
    const object: S3Object = {
      key,
      body,
      etag: `"${createHash("md5").update(body).digest("hex")}"`,
      lastModified: this.now(),
      contentType: opts.contentType ?? contentTypeFor(key),
      checksums: opts.checksums ?? {},
      versionId: randomBytes(24).toString("base64url"),
      ...(opts.sse ? { sse: opts.sse } : {}),
    };
    target.objects.set(key, object);
    return object;
  }

  delete(bucket: string, key: string): void {
    this.buckets.get(bucket)?.objects.delete(key);
  }
}

export interface ListInput {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** List keys strictly after this one (StartAfter, or where a continuation token left off). */
  after: string;
  /** Set when the previous page ended on this common prefix: every key under it was covered. */
  skipUnder?: string;
}

export interface ListPage {
  contents: S3Object[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Where the next page starts: after the last key, or past the last common prefix. */
  next?: { after: string; skipUnder?: string };
}

/**
 * One page of a listing, as S3 pages: keys in UTF-8 binary order, keys sharing a prefix up to
 * the delimiter rolled into one common prefix, and max-keys counting keys and prefixes alike.
 * A page that ends on a common prefix resumes after every key under it.
 */
export function listPage(bucket: S3Bucket, input: ListInput): ListPage {
  if (input.maxKeys <= 0) return { contents: [], commonPrefixes: [], isTruncated: false };
  const keys = [...bucket.objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const contents: S3Object[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  for (const key of keys) {
    if (!key.startsWith(input.prefix) || Buffer.compare(Buffer.from(key), Buffer.from(input.after)) <= 0) continue;
    // A continuation after a common prefix skips everything the prefix stood for.
    if (input.skipUnder !== undefined && key.startsWith(input.skipUnder)) continue;
    let entry = key;
    if (input.delimiter) {
      const at = key.indexOf(input.delimiter, input.prefix.length);
      if (at >= 0) entry = key.slice(0, at + input.delimiter.length);
    }
    if (entry !== key && entry === last) continue;
    if (contents.length + commonPrefixes.length >= input.maxKeys) {
      const next = last === undefined ? undefined : { after: last, ...(commonPrefixes.at(-1) === last ? { skipUnder: last } : {}) };
      return { contents, commonPrefixes, isTruncated: true, ...(next ? { next } : {}) };
    }
    if (entry === key) contents.push(bucket.objects.get(key)!);
    else commonPrefixes.push(entry);
    last = entry;
  }
  return { contents, commonPrefixes, isTruncated: false };
}
