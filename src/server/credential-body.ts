import type { Session } from "../types.js";
import { awsTime } from "../time.js";

/** A response as written: the header list `res.writeHead` takes as is, and the body's bytes. */
export interface PreparedResponse {
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/** Exactly application/json (DESIGN.md §2 pins it, no charset), never cached by anything in between. */
export function jsonHeaders(body: Buffer, extra: readonly string[] = []): string[] {
  return ["content-type", "application/json", "cache-control", "no-store", "content-length", String(body.length), ...extra];
}

/**
 * The container-credentials answer every AWS SDK reads (DESIGN.md §2), as the bytes sent: built once
 * per session (the cache is keyed by the session object, which the broker hands out unchanged while
 * it is good), so a cached hit formats no date, serializes nothing and builds no header object.
 */
const responses = new WeakMap<Session, PreparedResponse>();
export function responseOf(session: Session): PreparedResponse {
  let prepared = responses.get(session);
  if (prepared === undefined) {
    const body = Buffer.from(
      JSON.stringify({
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: session.secretAccessKey,
        Token: session.sessionToken,
        Expiration: awsTime(session.expiration),
        AccountId: session.accountId,
        RoleArn: session.roleArn,
      }),
    );
    prepared = { headers: jsonHeaders(body), body };
    responses.set(session, prepared);
  }
  return prepared;
}
