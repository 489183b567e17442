import { loadConfig } from "../config/load.js";
import { describeManagedPolicy, managedPolicyPath, readManagedPolicy } from "../config/managed.js";
import { findShadowing, sharedFiles, type ShadowingSource } from "../config/shadowing.js";
import type { Config } from "../config/types.js";
import { S3jitError } from "../errors.js";
import type { EnvInfo, StatusReport } from "../control/contract.js";
import { VERSION } from "../version.js";
import { awsCliCheck, botocoreCheck } from "./doctor-tools.js";
import { EXIT, paint, type Deps } from "./io.js";
import { terminalText } from "./safe-text.js";

export interface DoctorInput {
  json: boolean;
  configFile: string;
}

export interface Check {
  name: string;
  ok: boolean;
  /** Worth knowing, not a failure: printed as "warn", the exit code stays 0. */
  warn?: boolean;
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

/** A skew this large breaks SigV4 (AWS allows 5 minutes) long before anything else. */
const MAX_SKEW_MS = 60_000;

/**
 * Each check says what it found and, when it fails, what to do. Doctor reads the config and
 * probes the keychain itself (they are what keeps a daemon from starting); everything else it
 * asks the running daemon.
 */
export async function run(input: DoctorInput, deps: Deps & { probeKeychain?: () => Promise<void> }): Promise<number> {
  const checks: Check[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(input.configFile);
    checks.push({ name: "config", ok: true, detail: `${config.file}: ${Object.keys(config.profiles).length} profile(s), ${Object.keys(config.sso).length} SSO instance(s)` });
  } catch (err) {
    checks.push({ name: "config", ok: false, detail: message(err), fix: `fix ${input.configFile} as the message says (or point S3JIT_CONFIG / --config at another file)` });
  }

  checks.push(...managedPolicyChecks(deps.io.env));

  if (config?.daemon.keychain === "os") {
    try {
      const probe = deps.probeKeychain ?? (await import("../store/keytar.js")).probeKeychain;
      await probe();
      checks.push({ name: "keychain", ok: true, detail: "the OS keychain accepts, returns and deletes a test item" });
    } catch (err) {
      checks.push({ name: "keychain", ok: false, detail: message(err), fix: 'start or unlock your keyring, or set keychain = "memory" in [daemon]' });
    }
  } else if (config) {
    checks.push({ name: "keychain", ok: true, detail: 'keychain = "memory": secrets stay in the daemon\'s memory, nothing survives a restart' });
  }

  let status: StatusReport | undefined;
  try {
    status = await deps.client.get<StatusReport>("/v1/status");
    const same = status.daemon.version === VERSION;
    checks.push({
      name: "daemon",
      ok: same,
      detail: `running, pid ${status.daemon.pid}, version ${status.daemon.version}, endpoint 127.0.0.1:${status.daemon.port}`,
      ...(same ? {} : { fix: `the CLI is ${VERSION}: restart the daemon (systemctl --user restart s3jit, or stop it and run s3jit daemon)` }),
    });
  } catch (err) {
    checks.push({ name: "daemon", ok: false, detail: message(err), fix: "start it: `s3jit daemon` (foreground) or `s3jit service install` (at every login)" });
  }

  if (status) {
    for (const [name, sso] of Object.entries(status.sso)) {
      checks.push(
        sso.loggedIn
          ? { name: `login ${name}`, ok: true, detail: `logged in${sso.expiresAt ? ` until ${sso.expiresAt}` : ""}` }
          : { name: `login ${name}`, ok: false, detail: "not logged in (or the login expired)", fix: `s3jit login ${name}` },
      );
    }
    for (const profile of Object.keys(status.profiles)) checks.push(await endpointCheck(profile, deps));
    for (const [name, p] of Object.entries(status.profiles)) if (p.policy) checks.push(policyCheck(name, p.policy));
    checks.push(await skewCheck(config));
  }
  checks.push(...shadowingChecks(deps.io.env));
  checks.push(await awsCliCheck(deps.io.env), await botocoreCheck(deps.io.env));

  const ok = checks.every((c) => c.ok);
  if (input.json) deps.io.out(JSON.stringify({ ok, checks }, null, 2));
  else {
    // Names, details and fixes quote configs, files and the environment: escaped (safe-text.ts).
    for (const c of checks) {
      deps.io.out(`${!c.ok ? paint(deps.io, 31, "FAIL") : c.warn ? paint(deps.io, 33, "warn") : paint(deps.io, 32, "ok  ")} ${terminalText(c.name)}: ${terminalText(c.detail)}`);
      if ((!c.ok || c.warn) && c.fix) deps.io.out(`     fix: ${terminalText(c.fix)}`);
    }
  }
  return ok ? EXIT.ok : EXIT.failure;
}

/** 200, or a refusal that names a window or login, proves the endpoint answers and the token fits. */
async function endpointCheck(profile: string, deps: Deps): Promise<Check> {
  const name = `endpoint ${profile}`;
  try {
    const env = await deps.client.get<EnvInfo>(`/v1/env/${encodeURIComponent(profile)}`);
    const res = await fetch(env.url, { headers: { authorization: env.token }, signal: AbortSignal.timeout(5000) });
    const body = (await res.json().catch(() => ({}))) as { code?: string };
    if (res.status === 200) return { name, ok: true, detail: `${env.url} serves credentials (a window is open)` };
    if (res.status === 401) return { name, ok: false, detail: `${env.url} refuses the token in ${env.tokenFile}`, fix: "s3jit logout rotates the tokens; then run `s3jit env` again" };
    if (res.status === 403 || res.status === 503) return { name, ok: true, detail: `${env.url} answers with this profile's token (${body.code ?? res.status}: no credentials right now)` };
    return { name, ok: false, detail: `${env.url} answered ${res.status} ${body.code ?? ""}`, fix: "see the daemon's log" };
  } catch (err) {
    return { name, ok: false, detail: message(err), fix: "check that nothing else holds the port, then restart the daemon" };
  }
}

/** The clock against the STS endpoint's Date header (no SDK, no signature: any answer has a Date). */
async function skewCheck(config: Config | undefined): Promise<Check> {
  const region = Object.values(config?.profiles ?? {})[0]?.region ?? "us-east-1";
  const url = process.env.AWS_ENDPOINT_URL_STS ?? process.env.AWS_ENDPOINT_URL ?? `https://sts.${region}.amazonaws.com/`;
  try {
    const started = Date.now();
    const res = await fetch(url, { method: "GET", signal: AbortSignal.timeout(4000) });
    const date = res.headers.get("date");
    if (!date) return { name: "clock", ok: true, detail: `${url} sent no Date header; skew not checked` };
    const skew = Date.parse(date) - (started + Date.now()) / 2;
    const ok = Math.abs(skew) < MAX_SKEW_MS;
    return {
      name: "clock",
      ok,
      detail: `${Math.round(skew / 1000)} s against ${new URL(url).host}`,
      ...(ok ? {} : { fix: "turn on time synchronisation (timedatectl set-ntp true, or System Settings → Date & Time)" }),
    };
  } catch (err) {
    return { name: "clock", ok: true, detail: `could not reach ${url} (${message(err)}); skew not checked` };
  }
}

const USE_S3JIT = '`s3jit exec PROFILE -- CMD` and `eval "$(s3jit env PROFILE)"` keep it away';

/**
 * What comes before s3jit's endpoint in the SDKs' default chains, each with where it is. exec and
 * env isolate a program from all of it (a warning: programs started otherwise still use it),
 * except aws.* Java properties, which they refuse to run with (a failure).
 */
function shadowingChecks(env: NodeJS.ProcessEnv): Check[] {
  let found: ShadowingSource[];
  try {
    found = findShadowing(env);
  } catch (err) {
    return [{ name: "shadowing", ok: true, warn: true, detail: `cannot read the AWS shared files: ${message(err)}`, fix: "fix the file's permissions; exec and env refuse to run until then" }];
  }
  const checks: Check[] = found.map((s) => {
    if (s.where === "environment") {
      const detail = `environment ${s.keys.join(", ")}: ${s.what}`;
      if (!s.isolable) return { name: "shadowing", ok: false, detail, fix: `remove the -Daws.… property from ${s.keys.join(", ")}; exec and env refuse to run while it is there` };
      return { name: "shadowing", ok: true, warn: true, detail, fix: `${USE_S3JIT}; or \`unset ${s.keys.join(" ")}\`` };
    }
    const move = s.section === "default" || s.section === "profile default" ? "; move it out of [default] into a named profile so that no SDK uses it unasked" : "";
    return { name: "shadowing", ok: true, warn: true, detail: `${s.where} [${s.section}] ${s.keys.join(", ")}: ${s.what}`, fix: `${USE_S3JIT}${move}` };
  });
  if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN && env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) {
    checks.push({
      name: "shadowing",
      ok: true,
      warn: true,
      detail: "both AWS_CONTAINER_AUTHORIZATION_TOKEN and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE are set: JS v3 and Java v2 send the variable, the other SDKs read the file, and JS v3 warns",
      fix: 'run `eval "$(s3jit env PROFILE)"` again: it sets one of them',
    });
  }
  if (checks.length > 0) return checks;
  const files = sharedFiles(env);
  return [{ name: "shadowing", ok: true, detail: `nothing in ${files.config}, ${files.credentials} or the environment comes before s3jit's endpoint` }];
}

/** The organisation's managed policy, read on its own: a config it refuses still shows why. */
function managedPolicyChecks(env: NodeJS.ProcessEnv): Check[] {
  let policy;
  try {
    policy = readManagedPolicy(managedPolicyPath(env));
  } catch (err) {
    return [{ name: "managed policy", ok: false, detail: message(err), fix: "ask whoever manages this machine to fix the file" }];
  }
  if (!policy) return [];
  const { caps } = describeManagedPolicy(policy);
  const detail = `${policy.file} is in force: ${Object.entries(caps).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(", ") : String(v)}`).join("; ") || "no caps"}`;
  if (policy.notAControl) {
    return [{ name: "managed policy", ok: true, warn: true, detail: `${detail} — but it is not a control: ${policy.notAControl}`, fix: `have it owned by root and writable by no one else (sudo chown root ${policy.file} && sudo chmod 644 ${policy.file})` }];
  }
  return [{ name: "managed policy", ok: true, detail }];
}

/**
 * How much of STS's 2,048 characters the profile's session policy takes: the room its scope
 * leaves (the daemon builds it; a config whose policy does not fit does not load at all).
 */
function policyCheck(name: string, { chars, limit }: { chars: number; limit: number }): Check {
  const detail = `the session policy is ${chars} of ${limit} characters`;
  if (chars > limit) return { name: `policy ${name}`, ok: false, detail, fix: "narrow the scope (fewer buckets or prefixes, shared prefixes): see the README's table of what fits" };
  return chars > limit * 0.9 ? { name: `policy ${name}`, ok: true, warn: true, detail: `${detail}: little room for more scope` } : { name: `policy ${name}`, ok: true, detail };
}

function message(err: unknown): string {
  if (err instanceof S3jitError) return err.message;
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}
