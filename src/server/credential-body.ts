import type { Session } from "../types.js";
import { awsTime } from "../time.js";

/**
 * The container-credentials body every AWS SDK reads (DESIGN.md §2), as the bytes sent: built once
 * per session (the cache is keyed by the session object, which the broker hands out unchanged while
 * it is good), so a cached hit formats no date and serializes nothing.
 */
const bodies = new WeakMap<Session, Buffer>();
export function bodyOf(session: Session): Buffer {
  let body = bodies.get(session);
  if (body === undefined) {
    body = Buffer.from(
      JSON.stringify({
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: session.secretAccessKey,
        Token: session.sessionToken,
        Expiration: awsTime(session.expiration),
        AccountId: session.accountId,
        RoleArn: session.roleArn,
      }),
    );
    bodies.set(session, body);
  }
  return body;
}
