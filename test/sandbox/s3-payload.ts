import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { header, type SandboxRequest } from "./http.js";

/**
 * An S3 upload's bytes, as S3 recovers them from what the client sent: a plain body (its SHA-256
 * signed, or `UNSIGNED-PAYLOAD`), or `aws-chunked` framing with the checksum in a trailer
 * (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what the JS SDK v3 sends for streams). Every checksum
 * the client sent is checked, so a client that corrupts an upload fails here as it would on AWS.
 */

export type PayloadOutcome =
  | { ok: true; body: Buffer; checksums: Record<string, string> }
  | { ok: false; status: number; code: string; message: string };

const HEX_SHA256 = /^[0-9a-f]{64}$/;
// Headers that share the x-amz-checksum- prefix but describe a checksum rather than carry one.
const NOT_CHECKSUMS = new Set(["algorithm", "type", "mode"]);

function crc32cTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
const CRC32C = crc32cTable();

function crc32c(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC32C[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function uint32Base64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString("base64");
}

/** Base64 checksum of `data` for the algorithms the sandbox can verify; undefined for the others (accepted as sent). */
function checksumOf(algorithm: string, data: Buffer): string | undefined {
  switch (algorithm) {
    case "crc32":
      return uint32Base64(crc32(data));
    case "crc32c":
      return uint32Base64(crc32c(data));
    case "sha1":
      return createHash("sha1").update(data).digest("base64");
    case "sha256":
      return createHash("sha256").update(data).digest("base64");
    default:
      return undefined;
  }
}

function fail(status: number, code: string, message: string): PayloadOutcome {
  return { ok: false, status, code, message };
}

/** Undoes aws-chunked framing: `<hex size>[;ext]\r\n<bytes>\r\n` … `0\r\n`, then trailer lines and an empty line. */
function decodeAwsChunked(raw: Buffer): { body: Buffer; trailers: Record<string, string> } | undefined {
  const chunks: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", pos);
    if (eol < 0) return undefined;
    const size = Number.parseInt(raw.subarray(pos, eol).toString("latin1").split(";")[0]!, 16);
    if (!Number.isInteger(size) || size < 0) return undefined;
    pos = eol + 2;
    if (size === 0) break;
    if (pos + size + 2 > raw.length || raw.subarray(pos + size, pos + size + 2).toString("latin1") !== "\r\n") return undefined;
    chunks.push(raw.subarray(pos, pos + size));
    pos += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.subarray(pos).toString("latin1").split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon < 0) return undefined;
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(chunks), trailers };
}

export function uploadedBytes(req: SandboxRequest): PayloadOutcome {
  const mode = header(req, "x-amz-content-sha256");
  let body: Buffer;
  let trailers: Record<string, string> = {};
  if (mode === undefined) {
    return fail(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  } else if (HEX_SHA256.test(mode) || mode === "UNSIGNED-PAYLOAD") {
    // A hex hash was already held against the body when the signature was verified.
    body = req.body;
  } else if (mode === "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    const decoded = decodeAwsChunked(req.body);
    if (!decoded) return fail(400, "IncompleteBody", "The request body is not valid aws-chunked encoding.");
    ({ body, trailers } = decoded);
    const declared = header(req, "x-amz-decoded-content-length");
    if (declared !== undefined && Number(declared) !== body.length) {
      return fail(400, "IncompleteBody", "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header.");
    }
  } else if (mode.startsWith("STREAMING-")) {
    // Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD…) need per-chunk signature checks; no client
    // under test sends them, and accepting them unchecked would accept what AWS refuses.
    return fail(501, "NotImplemented", `The sandbox does not implement the ${mode} payload mode.`);
  } else {
    return fail(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.");
  }

  const md5 = header(req, "content-md5");
  if (md5 !== undefined && createHash("md5").update(body).digest("base64") !== md5) {
    return fail(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  const checksums: Record<string, string> = {};
  const sent = [...Object.entries(req.headers), ...Object.entries(trailers)];
  for (const [name, value] of sent) {
    const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name);
    if (!m || typeof value !== "string" || NOT_CHECKSUMS.has(m[1]!)) continue;
    const algorithm = m[1]!;
    const expected = checksumOf(algorithm, body);
    if (expected !== undefined && expected !== value) {
      return fail(400, "BadDigest", `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
    checksums[name] = value;
  }
  return { ok: true, body, checksums };
}
