import type { SandboxContext } from "./context.js";
import { escapeXml, newRequestId, type SandboxRequest, type SandboxResponse } from "./http.js";

/**
 * S3 (restXml). Everything the router does not recognise as STS, SSO-OIDC, the SSO portal or a
 * sandbox control lands here. The extension point for GetObject / ListObjectsV2 / …: name the
 * operation in `s3Action` (faults and the request log key on it), then answer it in `handleS3`,
 * authenticating with `authenticate` from iam.ts (it verifies SigV4 for service "s3" too) and
 * judging the request against `sessionPolicy` of the caller.
 */

export function s3Error(status: number, code: string, message: string): SandboxResponse {
  const id = newRequestId();
  return {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": id },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message><RequestId>${id}</RequestId></Error>`,
  };
}

/** The S3 operation a request asks for, from its method, path and query (path-style addressing). */
export function s3Action(req: SandboxRequest): string {
  const segments = req.rawPath.split("/").filter(Boolean);
  const hasKey = segments.length > 1;
  switch (req.method) {
    case "GET":
      if (segments.length === 0) return "ListBuckets";
      if (hasKey) return "GetObject";
      if (req.query.has("location")) return "GetBucketLocation";
      return req.query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    case "HEAD":
      return hasKey ? "HeadObject" : "HeadBucket";
    case "PUT":
      return hasKey ? "PutObject" : "CreateBucket";
    case "DELETE":
      return hasKey ? "DeleteObject" : "DeleteBucket";
    default:
      return `S3${req.method}`;
  }
}

export async function handleS3(_ctx: SandboxContext, _req: SandboxRequest, action: string): Promise<SandboxResponse> {
  return s3Error(501, "NotImplemented", `The sandbox does not implement S3 ${action} yet.`);
}
