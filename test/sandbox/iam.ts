import { header, type SandboxRequest } from "./http.js";
import { newAccessKeyId, newSecretAccessKey, newSessionToken, type SecretLedger } from "./secrets.js";
import { parseAuthorization, verifySignature } from "./sigv4.js";

/** Where a set of temporary credentials came from. */
export type SessionKind = "sso-role" | "scoped" | "assumed-role";

/** Temporary credentials the sandbox issued, and who they act as. */
export interface IssuedSession {
  kind: SessionKind;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch ms on the sandbox clock. */
  expiresAt: number;
  accountId: string;
  /** What GetCallerIdentity answers for these credentials. */
  arn: string;
  userId: string;
  /** The session policy it was minted with (scoped and assumed-role sessions). */
  policy?: string;
  /** Access key id of the credentials that minted this one. */
  parent?: string;
  /** The role this session acts in; for scoped sessions the parent's role. */
  roleName: string;
  sourceIdentity?: string;
  tags?: Record<string, string>;
  description?: string;
}

export type SessionFields = Omit<IssuedSession, "accessKeyId" | "secretAccessKey" | "sessionToken">;

/** The sandbox's IAM: every credential it issued, looked up by access key id. */
export class CredentialRegistry {
  private readonly sessions = new Map<string, IssuedSession>();

  constructor(private readonly ledger: SecretLedger) {}

  mint(fields: SessionFields): IssuedSession {
    const session: IssuedSession = {
      ...fields,
      accessKeyId: newAccessKeyId(),
      secretAccessKey: this.ledger.keep(newSecretAccessKey()),
      sessionToken: this.ledger.keep(newSessionToken()),
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  get(accessKeyId: string): IssuedSession | undefined {
    return this.sessions.get(accessKeyId);
  }
}

export type AuthOutcome =
  | { ok: true; session: IssuedSession }
  | { ok: false; status: number; code: string; message: string };

/**
 * Authenticates a SigV4-signed request the way AWS does, in AWS's order: a key it knows, the
 * session token that belongs to it, a signature made with its secret, and only then expiry.
 * Expiry is judged on the sandbox clock so tests can age credentials without waiting.
 */
export async function authenticate(req: SandboxRequest, registry: CredentialRegistry, now: number): Promise<AuthOutcome> {
  const rawAuth = header(req, "authorization");
  if (rawAuth === undefined) {
    return { ok: false, status: 403, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token" };
  }
  const auth = parseAuthorization(rawAuth);
  if (!auth) {
    return { ok: false, status: 400, code: "IncompleteSignature", message: "The request signature does not conform to AWS standards." };
  }
  const session = registry.get(auth.accessKeyId);
  if (!session || header(req, "x-amz-security-token") !== session.sessionToken) {
    return { ok: false, status: 403, code: "InvalidClientTokenId", message: "The security token included in the request is invalid." };
  }
  if (!(await verifySignature(req, auth, session.secretAccessKey))) {
    return {
      ok: false,
      status: 403,
      code: "SignatureDoesNotMatch",
      message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    };
  }
  if (now >= session.expiresAt) {
    return { ok: false, status: 400, code: "ExpiredToken", message: "The security token included in the request is expired" };
  }
  return { ok: true, session };
}

/** Session policies as STS checks them before minting; `undefined` when acceptable. */
export function checkSessionPolicy(policy: string): { code: string; message: string } | undefined {
  // STS's parameter constraint, checked before anything reads the document: characters outside
  // it (any script beyond Latin-1, unescaped) refuse the call; JSON \uXXXX escapes pass.
  // eslint-disable-next-line no-control-regex -- STS's rule names tab, LF and CR
  if (!/^[\u0009\u000A\u000D\u0020-\u00FF]+$/.test(policy)) {
    return {
      code: "ValidationError",
      message:
        "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
    };
  }
  // The real limit is on the packed (compressed) size; for the minified JSON the daemon sends,
  // 2048 characters is the documented plaintext ceiling and what the policy builder targets.
  if (policy.length > 2048) {
    return { code: "PackedPolicyTooLarge", message: `Packed size of the session policy (${policy.length} characters) exceeds the limit of 2048.` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    return { code: "MalformedPolicyDocument", message: "The policy is not in the valid JSON format." };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc) || !("Statement" in doc)) {
    return { code: "MalformedPolicyDocument", message: "Syntax errors in policy: the policy must be an object with a Statement." };
  }
  return undefined;
}
