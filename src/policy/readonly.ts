import { PolicyInvalidError } from "./errors.js";
import { KMS_KEY_ARN, REGION, bucketProblem } from "./names.js";

/** Every action a session policy may allow. Anything else is denied by the policy itself. */
export const READ_ACTIONS = [
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:ListBucket",
  "s3:GetBucketLocation",
  "kms:Decrypt",
] as const;

export type ReadAction = (typeof READ_ACTIONS)[number];

// IAM compares action names case-insensitively, so "S3:getobject" is s3:GetObject.
const READ = new Map<string, ReadAction>(READ_ACTIONS.map((a) => [a.toLowerCase(), a]));
const OBJECT_ACTIONS = new Set<ReadAction>(["s3:GetObject", "s3:GetObjectVersion"]);
const BUCKET_ACTIONS = new Set<ReadAction>(["s3:ListBucket", "s3:GetBucketLocation"]);

const STATEMENT_KEYS = new Set(["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"]);
const S3_ARN = /^arn:aws:s3:::([^/]*)(?:\/(.*))?$/s;
const VIA_S3 = new RegExp(`^s3\\.${REGION.source.slice(1, -1)}\\.amazonaws\\.com$`);
/** The only time format the builder writes (and the JS/Rust SDKs' own Expiration format). */
export const POLICY_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function refuse(why: string): never {
  throw new PolicyInvalidError(`session policy refused: ${why}`);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** IAM accepts a string or a list of strings wherever a list is expected. */
function stringList(v: Json | undefined, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x): x is string => typeof x === "string")) {
    refuse(`${what} must be a string or a non-empty list of strings`);
  }
  return list;
}

function readAction(action: string, where: string): ReadAction {
  if (/[*?]/.test(action)) refuse(`${where} has a wildcard action ${JSON.stringify(action)}`);
  const read = READ.get(action.toLowerCase());
  if (!read) refuse(`${where} names ${JSON.stringify(action)}, which is not one of ${READ_ACTIONS.join(", ")}`);
  return read;
}

/** Resources an allowed read action may name: no "*", no wildcard bucket, no policy variables. */
function checkResource(action: ReadAction, resource: string, where: string): void {
  const shown = JSON.stringify(resource);
  if (resource === "*") refuse(`${where} allows ${action} on every resource ("*")`);
  if (resource.includes("${")) refuse(`${where} has a policy variable in ${shown}`);
  if (action === "kms:Decrypt") {
    if (!KMS_KEY_ARN.test(resource)) refuse(`${where} allows kms:Decrypt on ${shown}, which is not one KMS key's ARN`);
    return;
  }
  const m = S3_ARN.exec(resource);
  if (!m) refuse(`${where} allows ${action} on ${shown}, which is not an S3 bucket or object ARN`);
  const [, bucket = "", key] = m;
  const problem = bucketProblem(bucket);
  if (problem) refuse(`${where}: ${problem}`);
  if (BUCKET_ACTIONS.has(action) && key !== undefined) refuse(`${where} allows bucket action ${action} on object ARN ${shown}`);
  if (OBJECT_ACTIONS.has(action)) {
    if (key === undefined) refuse(`${where} allows object action ${action} on bucket ARN ${shown}`);
    // Only "prefix*": a wildcard anywhere else ("a/*/b", "a?") would match keys outside the prefix.
    if (/[*?]/.test(key.slice(0, -1)) || key.endsWith("?")) refuse(`${where} has a wildcard inside the key of ${shown}`);
  }
}

function checkKmsCondition(condition: Json | undefined, where: string): void {
  // kms:Decrypt only through S3 in the profile's region: the key cannot be used directly.
  const ok =
    isObject(condition) &&
    Object.keys(condition).length === 1 &&
    isObject(condition.StringEquals) &&
    Object.keys(condition.StringEquals).length === 1 &&
    stringListOrNull(condition.StringEquals["kms:ViaService"])?.every((v) => VIA_S3.test(v)) === true;
  if (!ok) refuse(`${where} allows kms:Decrypt without exactly StringEquals kms:ViaService = s3.<region>.amazonaws.com`);
}

function stringListOrNull(v: Json | undefined): string[] | null {
  const list = Array.isArray(v) ? v : [v];
  return list.length > 0 && list.every((x): x is string => typeof x === "string") ? list : null;
}

function isStar(v: Json | undefined): boolean {
  return v === "*" || (Array.isArray(v) && v.length === 1 && v[0] === "*");
}

function checkAllow(st: { [key: string]: Json }, where: string): void {
  // NotAction/NotResource in an Allow allow everything they do not name.
  if ("NotAction" in st) refuse(`${where} is an Allow with NotAction`);
  if ("NotResource" in st) refuse(`${where} is an Allow with NotResource`);
  const actions = stringList(st.Action, `${where} Action`).map((a) => readAction(a, where));
  const resources = stringList(st.Resource, `${where} Resource`);
  for (const action of actions) for (const resource of resources) checkResource(action, resource, where);
  if (actions.includes("kms:Decrypt")) checkKmsCondition(st.Condition, where);
}

/** Deny every action outside the read set, everywhere, always. */
function isDenyOthers(st: { [key: string]: Json }): boolean {
  if (!("NotAction" in st) || "Action" in st || "NotResource" in st || "Condition" in st || !isStar(st.Resource)) return false;
  const names = stringListOrNull(st.NotAction);
  return names !== null && names.every((a) => !/[*?]/.test(a) && READ.has(a.toLowerCase()));
}

/** Deny everything once aws:CurrentTime reaches the window's end. */
function isDenyAfterWindow(st: { [key: string]: Json }): boolean {
  if (!isStar(st.Action) || "NotAction" in st || "NotResource" in st || !isStar(st.Resource)) return false;
  const c = st.Condition;
  if (!isObject(c) || Object.keys(c).length !== 1 || !isObject(c.DateGreaterThanEquals)) return false;
  const test = c.DateGreaterThanEquals;
  const at = test["aws:CurrentTime"];
  return Object.keys(test).length === 1 && typeof at === "string" && POLICY_TIME.test(at) && !Number.isNaN(Date.parse(at));
}

/**
 * Throws unless `policyJson` is a session policy s3jit may send: minified, every Allow names only
 * READ_ACTIONS on concrete buckets/keys (a trailing "*" on an object key is the only wildcard), and
 * both Deny statements are there. A resource policy naming the session could still grant more,
 * which is why the Denies exist: an Allow-only policy is not enough.
 */
export function assertReadOnly(policyJson: string): void {
  let doc: Json;
  try {
    doc = JSON.parse(policyJson) as Json;
  } catch {
    refuse("it is not JSON");
  }
  // Re-serialising catches duplicate keys (JSON.parse keeps the last one; AWS might not).
  if (JSON.stringify(doc) !== policyJson) refuse("it is not minified JSON without duplicate keys");
  if (!isObject(doc)) refuse("it is not a JSON object");
  const extra = Object.keys(doc).filter((k) => k !== "Version" && k !== "Statement");
  if (extra.length > 0) refuse(`unexpected top-level key ${JSON.stringify(extra[0])}`);
  if (doc.Version !== "2012-10-17") refuse('Version must be "2012-10-17"');
  if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) refuse("Statement must be a non-empty list");

  let denyOthers = false;
  let denyAfterWindow = false;
  doc.Statement.forEach((st, i) => {
    const where = `statement ${i + 1}`;
    if (!isObject(st)) refuse(`${where} is not an object`);
    const unknown = Object.keys(st).find((k) => !STATEMENT_KEYS.has(k));
    if (unknown) refuse(`${where} has ${JSON.stringify(unknown)}, which a session policy may not use`);
    if (st.Effect === "Allow") checkAllow(st, where);
    else if (st.Effect === "Deny") {
      // Other Deny statements only take away, so they are let through.
      denyOthers ||= isDenyOthers(st);
      denyAfterWindow ||= isDenyAfterWindow(st);
    } else refuse(`${where} has Effect ${JSON.stringify(st.Effect ?? null)}`);
  });
  if (!denyOthers) refuse('the "Deny NotAction [read actions] on *" statement is missing');
  if (!denyAfterWindow) refuse('the "Deny * when DateGreaterThanEquals aws:CurrentTime <window end>" statement is missing');
}
