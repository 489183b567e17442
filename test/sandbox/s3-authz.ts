import { runSimulation } from "@cloud-copilot/iam-simulate";
import { isoSeconds } from "./http.js";
import type { CredentialRegistry, IssuedSession } from "./iam.js";
import { contextStandIn, withContextStandIn } from "./kms-context.js";

/**
 * S3 authorization as AWS decides it for a role session: the identity policy (the permission
 * set, which grants `s3:*` here) AND every session policy the credentials were minted with,
 * evaluated by @cloud-copilot/iam-simulate at the sandbox's clock. An explicit deny anywhere
 * wins; nothing allowed is an implicit deny.
 */

/** The IAM view of one S3 request. */
export interface S3Access {
  /** e.g. "s3:GetObject" */
  action: string;
  /** e.g. "arn:aws:s3:::audit-logs/2026/01/report.json", or "*" */
  resource: string;
  /** Service condition keys of this request, e.g. {"s3:prefix": "2026/"}. */
  context: Record<string, string>;
}

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/** What the permission set's role may do before any session policy narrows it. */
const PERMISSION_SET_POLICY = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: "s3:*", Resource: "*" },
    // SSE-KMS reads: the permission set needs kms:Decrypt through S3, as real ones do.
    { Effect: "Allow", Action: "kms:Decrypt", Resource: "*" },
  ],
};

/** A KMS key's default key policy: the account's IAM policies decide (the simulator needs one). */
function keyPolicy(keyArn: string): unknown {
  const [, partition = "aws", , , account = ""] = keyArn.split(":");
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" }] };
}

/**
 * The session policies that bound a session. A scoped session can never do more than the
 * session it was minted from, so its parent's policy binds it too; an assumed role starts afresh.
 */
function sessionPolicies(session: IssuedSession, registry: CredentialRegistry): string[] {
  const policies: string[] = [];
  for (let s: IssuedSession | undefined = session; s; s = s.kind === "scoped" && s.parent ? registry.get(s.parent) : undefined) {
    if (s.policy !== undefined) policies.push(s.policy);
  }
  return policies;
}

/** `arn:aws:sts::A:assumed-role/R/S` → `arn:aws:iam::A:role/R`, what aws:PrincipalArn holds for role sessions. */
function principalArn(session: IssuedSession): string {
  return `arn:aws:iam::${session.accountId}:role/${session.roleName}`;
}

async function evaluate(session: IssuedSession, access: S3Access, now: number, sessionPolicy: string | undefined): Promise<Decision> {
  const kms = access.action.startsWith("kms:");
  const result = await runSimulation(
    {
      request: {
        principal: session.arn,
        action: access.action,
        resource: { resource: access.resource, accountId: session.accountId },
        contextVariables: {
          "aws:CurrentTime": isoSeconds(now),
          "aws:EpochTime": String(Math.floor(now / 1000)),
          "aws:SecureTransport": "false",
          "aws:PrincipalArn": principalArn(session),
          "aws:PrincipalAccount": session.accountId,
          "aws:PrincipalType": "AssumedRole",
          "aws:userid": session.userId,
          ...(kms ? {} : { "s3:authType": "REST-HEADER", "s3:signatureversion": "AWS4-HMAC-SHA256" }),
          // The simulator ignores kms:EncryptionContext:* keys; they go in under a stand-in name.
          ...contextStandIn(access.context),
        },
      },
      ...(sessionPolicy !== undefined ? { sessionPolicy: withContextStandIn(JSON.parse(sessionPolicy)) } : {}),
      ...(kms ? { resourcePolicy: keyPolicy(access.resource) } : {}),
      identityPolicies: [{ name: session.roleName, policy: PERMISSION_SET_POLICY }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  // A policy the simulator cannot read is a sandbox or test bug; failing loudly beats guessing.
  if (result.resultType === "error") throw new Error(`sandbox: iam-simulate refused the request: ${result.errors.message}`);
  return result.overallResult;
}

export async function authorize(session: IssuedSession, registry: CredentialRegistry, access: S3Access, now: number): Promise<Decision> {
  const policies = sessionPolicies(session, registry);
  if (policies.length === 0) return evaluate(session, access, now, undefined);
  let decision: Decision = "Allowed";
  for (const policy of policies) {
    const one = await evaluate(session, access, now, policy);
    if (one === "ExplicitlyDenied") return one;
    if (one === "ImplicitlyDenied") decision = one;
  }
  return decision;
}
