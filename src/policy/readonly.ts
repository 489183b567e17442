import { PolicyInvalidError } from "./errors.js";
import { KMS_KEY_ARN, REGION, bucketProblem } from "./names.js";

/** Reads of an object's data and metadata (GetObjectAttributes needs GetObject's right too). */
export const OBJECT_READS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"] as const;
/** Listings: both take the s3:prefix condition. */
export const LISTS = ["s3:ListBucket", "s3:ListBucketVersions"] as const;
/** Every bucket-level read. */
export const BUCKET_READS = [...LISTS, "s3:GetBucketLocation"] as const;

/**
 * Every action a session policy may allow. Anything else is denied by the policy itself. Not
 * AmazonS3ReadOnlyAccess's s3:Get* / s3:List*: those include s3:GetDataAccess (Access Grants
 * credentials that outlive the window) and policy, ACL and configuration reads.
 */
export const READ_ACTIONS = [...OBJECT_READS, ...BUCKET_READS, "kms:Decrypt"] as const;

export type ReadAction = (typeof READ_ACTIONS)[number];

/** The encryption context S3 passes to KMS: the object's ARN, or the bucket's with S3 Bucket Keys. */
export const S3_ARN_CONTEXT = "kms:EncryptionContext:aws:s3:arn";

/** STS's character rule for policy text: https://docs.aws.amazon.com/STS/latest/APIReference (Policy). */
// eslint-disable-next-line no-control-regex -- STS's rule names tab, LF and CR
export const STS_POLICY_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]*$/;

/**
 * `json` with every character STS refuses written as a JSON \uXXXX escape (astral characters as
 * their two surrogates): the same document to IAM, in the characters STS accepts. S3 keys in
 * any script work this way; each such character costs six of the 2048.
 */
export function stsText(json: string): string {
  // eslint-disable-next-line no-control-regex -- STS's rule names tab, LF and CR
  return json.replace(/[^\u0009\u000A\u000D\u0020-\u00FF]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// IAM compares action names case-insensitively, so "S3:getobject" is s3:GetObject.
const READ = new Map<string, ReadAction>(READ_ACTIONS.map((a) => [a.toLowerCase(), a]));
const OBJECT_ACTIONS = new Set<ReadAction>(OBJECT_READS);
const BUCKET_ACTIONS = new Set<ReadAction>(BUCKET_READS);

const STATEMENT_KEYS = new Set(["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"]);
const PARTITION = "(?:aws|aws-cn|aws-us-gov)";
const S3_ARN = new RegExp(`^arn:${PARTITION}:s3:::([^/]*)(?:/(.*))?$`, "s");
const VIA_S3 = new RegExp(`^s3\\.(?:${REGION.source.slice(1, -1)}|\\*)\\.amazonaws\\.com(?:\\.cn)?$`);
/** STS's limit on a session policy, in characters. */
const MAX_CHARS = 2048;
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

/** Resources an allowed read action may name: "*" only where a Deny confines it, no wildcard bucket, no policy variables. */
function checkResource(action: ReadAction, resource: string, where: string): void {
  const shown = JSON.stringify(resource);
  if (resource.includes("${")) refuse(`${where} has a policy variable in ${shown}`);
  if (action === "kms:Decrypt") {
    // "*" only with the via-S3 condition and the encryption-context Deny (both checked below):
    // the key ARN behind an SSE-KMS object (aws/s3's, say) is rarely known.
    if (resource !== "*" && !KMS_KEY_ARN.test(resource)) refuse(`${where} allows kms:Decrypt on ${shown}, which is not one KMS key's ARN`);
    return;
  }
  // "*" only with the Deny of every S3 request outside concrete ARNs (checked by assertReadOnly).
  if (resource === "*") return;
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
  // kms:Decrypt only through S3: the key cannot be used directly, nor through another service.
  const test = isObject(condition) && Object.keys(condition).length === 1 ? (condition.StringLike ?? condition.StringEquals) : undefined;
  const ok =
    isObject(test) &&
    Object.keys(test).length === 1 &&
    stringListOrNull(test["kms:ViaService"])?.every((v) => VIA_S3.test(v)) === true;
  if (!ok) refuse(`${where} allows kms:Decrypt without exactly StringLike kms:ViaService = s3.<region or *>.<partition's DNS suffix>`);
}

/** An S3 bucket or object ARN with no wildcard but a trailing "*" on a key. */
function isConcreteS3Arn(arn: string): boolean {
  const m = S3_ARN.exec(arn);
  if (!m || arn.includes("${")) return false;
  const [, bucket = "", key] = m;
  if (bucketProblem(bucket) !== undefined) return false;
  return key === undefined || (!/[*?]/.test(key.slice(0, -1)) && !key.endsWith("?"));
}

/** Deny kms:Decrypt unless S3's encryption context names an object (or bucket) ARN in the scope. */
function isDenyOtherContexts(st: { [key: string]: Json }): boolean {
  const actions = stringListOrNull(st.Action);
  if (actions?.length !== 1 || actions[0]!.toLowerCase() !== "kms:decrypt" || "NotResource" in st || !isStar(st.Resource)) return false;
  const c = st.Condition;
  if (!isObject(c) || Object.keys(c).length !== 1 || !isObject(c.StringNotLike)) return false;
  const test = c.StringNotLike;
  const arns = stringListOrNull(test[S3_ARN_CONTEXT]);
  return Object.keys(test).length === 1 && arns !== null && arns.every(isConcreteS3Arn);
}

function stringListOrNull(v: Json | undefined): string[] | null {
  const list = Array.isArray(v) ? v : [v];
  return list.length > 0 && list.every((x): x is string => typeof x === "string") ? list : null;
}

function isStar(v: Json | undefined): boolean {
  return v === "*" || (Array.isArray(v) && v.length === 1 && v[0] === "*");
}

/** What an Allow leaves for a Deny to confine. */
interface AllowNeeds {
  /** It allows kms:Decrypt: the encryption-context Deny must be there. */
  decrypt: boolean;
  /** It allows an S3 read on "*": the Deny of S3 outside concrete ARNs must be there. */
  s3OnStar: boolean;
}

function checkAllow(st: { [key: string]: Json }, where: string): AllowNeeds {
  // NotAction/NotResource in an Allow allow everything they do not name.
  if ("NotAction" in st) refuse(`${where} is an Allow with NotAction`);
  if ("NotResource" in st) refuse(`${where} is an Allow with NotResource`);
  const actions = stringList(st.Action, `${where} Action`).map((a) => readAction(a, where));
  const resources = stringList(st.Resource, `${where} Resource`);
  for (const action of actions) for (const resource of resources) checkResource(action, resource, where);
  const decrypt = actions.includes("kms:Decrypt");
  if (decrypt) checkKmsCondition(st.Condition, where);
  return { decrypt, s3OnStar: resources.includes("*") && actions.some((a) => a !== "kms:Decrypt") };
}

/** Deny every S3 request outside a list of concrete bucket/object ARNs, unconditionally. */
function isDenyOutsideScope(st: { [key: string]: Json }): boolean {
  if ("NotAction" in st || "Resource" in st || "Condition" in st) return false;
  const actions = stringListOrNull(st.Action);
  const arns = stringListOrNull(st.NotResource);
  return actions !== null && actions.some((a) => a === "*" || a.toLowerCase() === "s3:*") && arns !== null && arns.every(isConcreteS3Arn);
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
 * READ_ACTIONS on concrete buckets/keys (a trailing "*" on an object key is the only wildcard;
 * kms:Decrypt only via S3), and the Denies are there: other actions, after the window, and
 * (where kms:Decrypt is allowed) encryption contexts outside the scope. In STS's character set
 * and size. A resource policy naming the session could still grant more,
 * which is why the Denies exist: an Allow-only policy is not enough.
 */
export function assertReadOnly(policyJson: string): void {
  let doc: Json;
  try {
    doc = JSON.parse(policyJson) as Json;
  } catch {
    refuse("it is not JSON");
  }
  if (!STS_POLICY_CHARS.test(policyJson)) refuse("it has characters STS refuses (outside \\u0009, \\u000A, \\u000D, \\u0020-\\u00FF); write them as \\uXXXX escapes");
  if (policyJson.length > MAX_CHARS) refuse(`it is ${policyJson.length} characters, over STS's limit of ${MAX_CHARS}`);
  // Re-serialising catches duplicate keys (JSON.parse keeps the last one; AWS might not).
  if (stsText(JSON.stringify(doc)) !== policyJson) refuse("it is not minified JSON without duplicate keys");
  if (!isObject(doc)) refuse("it is not a JSON object");
  const extra = Object.keys(doc).filter((k) => k !== "Version" && k !== "Statement");
  if (extra.length > 0) refuse(`unexpected top-level key ${JSON.stringify(extra[0])}`);
  if (doc.Version !== "2012-10-17") refuse('Version must be "2012-10-17"');
  if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) refuse("Statement must be a non-empty list");

  let denyOthers = false;
  let denyAfterWindow = false;
  let denyOtherContexts = false;
  let denyOutsideScope = false;
  const needs: AllowNeeds = { decrypt: false, s3OnStar: false };
  doc.Statement.forEach((st, i) => {
    const where = `statement ${i + 1}`;
    if (!isObject(st)) refuse(`${where} is not an object`);
    const unknown = Object.keys(st).find((k) => !STATEMENT_KEYS.has(k));
    if (unknown) refuse(`${where} has ${JSON.stringify(unknown)}, which a session policy may not use`);
    if (st.Effect === "Allow") {
      const n = checkAllow(st, where);
      needs.decrypt ||= n.decrypt;
      needs.s3OnStar ||= n.s3OnStar;
    } else if (st.Effect === "Deny") {
      denyOutsideScope ||= isDenyOutsideScope(st);
      denyOtherContexts ||= isDenyOtherContexts(st);
      // Other Deny statements only take away, so they are let through.
      denyOthers ||= isDenyOthers(st);
      denyAfterWindow ||= isDenyAfterWindow(st);
    } else refuse(`${where} has Effect ${JSON.stringify(st.Effect ?? null)}`);
  });
  if (!denyOthers) refuse('the "Deny NotAction [read actions] on *" statement is missing');
  if (!denyAfterWindow) refuse('the "Deny * when DateGreaterThanEquals aws:CurrentTime <window end>" statement is missing');
  if (needs.s3OnStar && !denyOutsideScope) refuse('an S3 read is allowed on every resource ("*") without the "Deny s3:* NotResource <scoped ARNs>" statement that confines it');
  if (needs.decrypt && !denyOtherContexts) refuse(`kms:Decrypt is allowed, but the "Deny kms:Decrypt when StringNotLike ${S3_ARN_CONTEXT} <scoped ARNs>" statement is missing`);
}
