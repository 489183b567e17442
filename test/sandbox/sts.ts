import type { SandboxContext } from "./context.js";
import { escapeXml, isoSeconds, newRequestId, xmlResponse, type SandboxRequest, type SandboxResponse } from "./http.js";
import { authenticate, checkSessionPolicy, type IssuedSession } from "./iam.js";
import { newHexId } from "./secrets.js";

/** STS (awsQuery): form-encoded `POST /`, XML answers. */

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

export function stsError(status: number, code: string, message: string): SandboxResponse {
  const id = newRequestId();
  return xmlResponse(
    status,
    `<ErrorResponse xmlns="${NS}"><Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type><Code>${escapeXml(code)}</Code>` +
      `<Message>${escapeXml(message)}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
    id,
  );
}

function result(action: string, inner: string): SandboxResponse {
  const id = newRequestId();
  return xmlResponse(
    200,
    `<${action}Response xmlns="${NS}"><${action}Result>${inner}</${action}Result>` +
      `<ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></${action}Response>`,
    id,
  );
}

function el(name: string, value: string | number): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function credentialsXml(s: IssuedSession): string {
  return `<Credentials>${el("AccessKeyId", s.accessKeyId)}${el("SecretAccessKey", s.secretAccessKey)}${el("SessionToken", s.sessionToken)}${el(
    "Expiration",
    isoSeconds(s.expiresAt),
  )}</Credentials>`;
}

function validationError(message: string): SandboxResponse {
  return stsError(400, "ValidationError", `1 validation error detected: ${message}`);
}

/** Parses an integer form field; `undefined` when absent, NaN when not an integer. */
function intParam(params: Record<string, string>, name: string): number | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  return /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
}

function durationError(value: number, name: string, min: number, max: number): SandboxResponse | undefined {
  if (Number.isNaN(value)) return validationError(`Value at '${name}' failed to satisfy constraint: Member must be an integer`);
  if (value < min) return validationError(`Value '${value}' at '${name}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
  if (value > max) return validationError(`Value '${value}' at '${name}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  return undefined;
}

function policyError(policy: string | undefined): SandboxResponse | undefined {
  if (policy === undefined) return undefined;
  const problem = checkSessionPolicy(policy);
  return problem ? stsError(400, problem.code, problem.message) : undefined;
}

function packedPolicySize(policy: string | undefined): number {
  return policy === undefined ? 0 : Math.ceil((policy.length * 100) / 2048);
}

/** Percent of the largest session token STS issues; here the token's length against 2 KiB. */
function sessionTokenUtilization(s: IssuedSession): number {
  return Math.min(100, Math.max(1, Math.ceil((s.sessionToken.length * 100) / 2048)));
}

/** What both answers carry after the credentials. */
function sizesXml(s: IssuedSession): string {
  return `${el("PackedPolicySize", packedPolicySize(s.policy))}${el("SessionTokenUtilization", sessionTokenUtilization(s))}`;
}

/**
 * GetScopedCredentials: same identity as the caller, narrowed by Policy, and never alive past
 * the caller's own expiry. DurationSeconds 1..129600; longer than the caller's remaining life is
 * rejected, as real STS does (omitted: the caller's remaining life).
 */
function getScopedCredentials(ctx: SandboxContext, caller: IssuedSession, params: Record<string, string>): SandboxResponse {
  const asked = intParam(params, "DurationSeconds");
  const duration = asked ?? Math.floor((caller.expiresAt - ctx.now()) / 1000);
  const bad = durationError(duration, "durationSeconds", 1, 129_600) ?? policyError(params["Policy"]);
  if (bad) return bad;
  if (asked !== undefined && ctx.now() + asked * 1000 > caller.expiresAt) {
    return stsError(400, "InsufficientSessionLifetime", "The requested DurationSeconds exceeds the remaining lifetime of the calling session.");
  }
  const description = params["ScopedSessionDescription"];
  if (description !== undefined && description.length > 256) {
    return validationError("Value at 'scopedSessionDescription' failed to satisfy constraint: Member must have length less than or equal to 256");
  }
  const now = ctx.now();
  const session = ctx.registry.mint({
    kind: "scoped",
    expiresAt: Math.min(now + duration * 1000, caller.expiresAt),
    accountId: caller.accountId,
    arn: caller.arn,
    userId: caller.userId,
    roleName: caller.roleName,
    parent: caller.accessKeyId,
    ...(params["Policy"] !== undefined ? { policy: params["Policy"] } : {}),
    ...(description !== undefined ? { description } : {}),
  });
  const sessionInfo = `<SessionInfo>${el("ScopedSessionId", `ss-${newHexId(24)}`)}${el("Arn", caller.arn)}</SessionInfo>`;
  return result("GetScopedCredentials", `${credentialsXml(session)}${sessionInfo}${sizesXml(session)}`);
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function sessionTags(params: Record<string, string>): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  for (let n = 1; params[`Tags.member.${n}.Key`] !== undefined; n++) {
    tags[params[`Tags.member.${n}.Key`]!] = params[`Tags.member.${n}.Value`] ?? "";
  }
  return Object.keys(tags).length > 0 ? tags : undefined;
}

/**
 * AssumeRole with credentials that are themselves a role session: role chaining, so AWS caps
 * DurationSeconds at 3600 and does not tie the expiry to the caller's.
 */
function assumeRole(ctx: SandboxContext, caller: IssuedSession, params: Record<string, string>): SandboxResponse {
  const roleArn = params["RoleArn"] ?? "";
  const sessionName = params["RoleSessionName"] ?? "";
  if (!SESSION_NAME.test(sessionName)) {
    return validationError("Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}");
  }
  const duration = intParam(params, "DurationSeconds") ?? 3600;
  const bad = durationError(duration, "durationSeconds", 900, 3600) ?? policyError(params["Policy"]);
  if (bad) return bad;
  const role = ROLE_ARN.exec(roleArn);
  if (!role || ctx.accounts[role[1]!] === undefined) {
    return stsError(403, "AccessDenied", `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
  }
  const [, accountId, roleName] = role as unknown as [string, string, string];
  const roleId = `AROA${newHexId(16).toUpperCase()}`;
  const sourceIdentity = params["SourceIdentity"];
  const tags = sessionTags(params);
  const session = ctx.registry.mint({
    kind: "assumed-role",
    expiresAt: ctx.now() + duration * 1000,
    accountId,
    arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
    userId: `${roleId}:${sessionName}`,
    roleName,
    parent: caller.accessKeyId,
    ...(params["Policy"] !== undefined ? { policy: params["Policy"] } : {}),
    ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
    ...(tags ? { tags } : {}),
  });
  const user = `<AssumedRoleUser>${el("AssumedRoleId", session.userId)}${el("Arn", session.arn)}</AssumedRoleUser>`;
  const source = sourceIdentity !== undefined ? el("SourceIdentity", sourceIdentity) : "";
  return result("AssumeRole", `${credentialsXml(session)}${user}${sizesXml(session)}${source}`);
}

function getCallerIdentity(caller: IssuedSession): SandboxResponse {
  return result("GetCallerIdentity", `${el("UserId", caller.userId)}${el("Account", caller.accountId)}${el("Arn", caller.arn)}`);
}

const ACTIONS = ["GetScopedCredentials", "AssumeRole", "GetCallerIdentity"] as const;

export async function handleSts(ctx: SandboxContext, req: SandboxRequest, params: Record<string, string>): Promise<SandboxResponse> {
  const action = params["Action"] ?? "";
  if (!(ACTIONS as readonly string[]).includes(action)) {
    return stsError(400, "InvalidAction", `Could not find operation ${action} for version ${params["Version"] ?? "NO_VERSION_SPECIFIED"}`);
  }
  const auth = await authenticate(req, ctx.registry, ctx.now());
  if (!auth.ok) return stsError(auth.status, auth.code, auth.message);
  switch (action) {
    case "GetScopedCredentials":
      return getScopedCredentials(ctx, auth.session, params);
    case "AssumeRole":
      return assumeRole(ctx, auth.session, params);
    default:
      return getCallerIdentity(auth.session);
  }
}
