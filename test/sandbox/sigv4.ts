import { createHash, timingSafeEqual } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { header, type SandboxRequest } from "./http.js";

/** What an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header says. */
export interface SigV4Authorization {
  accessKeyId: string;
  /** yyyymmdd from the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

export function parseAuthorization(value: string | undefined): SigV4Authorization | undefined {
  const m = value === undefined ? null : AUTH_PATTERN.exec(value);
  if (!m) return undefined;
  const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] = m as unknown as string[];
  return {
    accessKeyId: accessKeyId!,
    scopeDate: scopeDate!,
    region: region!,
    service: service!,
    signedHeaders: signedHeaders!.split(";"),
    signature: signature!,
  };
}

/** The access key id a request claims, even when the rest of the header is malformed (for the request log). */
export function claimedAccessKeyId(req: SandboxRequest): string | undefined {
  const m = /Credential=([^/,\s]+)\//.exec(header(req, "authorization") ?? "");
  return m?.[1];
}

/** The SHA-256 constructor shape the signer wants (the package only exports a generic Hash). */
class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super("sha256", secret);
  }
}

function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

function queryRecord(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const all = query.getAll(key);
    out[key] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

/**
 * Recomputes the signature the way AWS does: rebuild the request from exactly the headers the
 * client says it signed, sign it with the secret the sandbox issued, compare. Using the SDK's own
 * signer means any drift in canonicalisation shows up as a failing test here, not as a sandbox
 * that accepts what AWS would refuse.
 */
export async function verifySignature(req: SandboxRequest, auth: SigV4Authorization, secretAccessKey: string): Promise<boolean> {
  const signingDate = parseAmzDate(header(req, "x-amz-date"));
  if (!signingDate || !auth.signedHeaders.includes("host")) return false;

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(req, name);
    if (value === undefined) return false;
    headers[name] = value;
  }
  // The signer trusts x-amz-content-sha256 instead of hashing the body; AWS checks that claim
  // against the body it received, so a body changed after signing is refused.
  const claimedHash = header(req, "x-amz-content-sha256");
  if (claimedHash !== undefined && /^[0-9a-f]{64}$/.test(claimedHash)) {
    if (createHash("sha256").update(req.body).digest("hex") !== claimedHash) return false;
  }
  // S3 signs the path as sent (already escaped); every other service signs it decoded and lets
  // the signer escape it.
  const isS3 = auth.service === "s3";
  let path = req.rawPath;
  if (!isS3) {
    try {
      path = decodeURIComponent(req.rawPath);
    } catch {
      return false;
    }
  }
  const request = new HttpRequest({
    method: req.method,
    protocol: "http:",
    hostname: "sandbox",
    path,
    query: queryRecord(req.query),
    headers,
    body: req.body.length > 0 ? req.body : undefined,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    uriEscapePath: !isS3,
    // The client decided whether x-amz-content-sha256 is signed; never add it on our side.
    applyChecksum: false,
  });
  const signed = await signer.sign(request, { signingDate, signingRegion: auth.region, signingService: auth.service });
  const expected = parseAuthorization(String(signed.headers["authorization"]));
  if (!expected || expected.scopeDate !== auth.scopeDate) return false;
  if (expected.signedHeaders.join(";") !== auth.signedHeaders.join(";")) return false;
  return timingSafeEqual(Buffer.from(expected.signature), Buffer.from(auth.signature));
}
