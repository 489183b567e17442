import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/** One request as every service handler sees it: the body already read, the URL already split. */
export interface SandboxRequest {
  method: string;
  /** Path exactly as it came over the wire (still percent-encoded). */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SandboxResponse {
  status: number;
  headers: Record<string, string>;
  /** Bytes for S3 objects, text for everything else. */
  body: string | Buffer;
}

export function newRequestId(): string {
  return randomUUID();
}

export function header(req: SandboxRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : value;
}

export function xmlResponse(status: number, body: string, requestId: string): SandboxResponse {
  return {
    status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

export function jsonResponse(status: number, value: unknown, extraHeaders: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: { "content-type": "application/json", "x-amzn-requestid": newRequestId(), ...extraHeaders },
    body: value === undefined ? "" : JSON.stringify(value),
  };
}

/**
 * restJson1 error: the SDK takes the error's name from `x-amzn-errortype` first, so that header
 * is what makes `err.name` right; the body carries the message in the members the models use.
 */
export function restJsonError(status: number, code: string, message: string, extraBody: Record<string, unknown> = {}): SandboxResponse {
  return jsonResponse(status, { message, ...extraBody }, { "x-amzn-errortype": code });
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/** `2026-11-28T10:00:00Z`: the shape STS puts in `Expiration` (no milliseconds). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
