import { existsSync, lstatSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "smol-toml";
import { ConfigError } from "../errors.js";
import { parseHours } from "../windows/hours.js";
import { formatDuration } from "./duration.js";
import * as read from "./readers.js";
import { Invalid, Section, describe, type Reader } from "./section.js";
import type { Config, ProfileConfig, ScopeEntry } from "./types.js";

/**
 * The managed policy: one root-owned, read-only file an organisation ships with its device
 * management (Linux /etc/s3jit/policy.toml, macOS /Library/Application Support/s3jit/policy.toml).
 * It bounds what any user config on the machine may ask for; a config beyond it does not load.
 *
 * It is guardrails and consistency across a fleet, not a boundary against the machine's own
 * administrator (who can change the file) or against the user's own code (the permission set at
 * AWS is that boundary).
 *
 *   [sso]
 *   start_urls = ["https://corp.awsapps.com/start"]   # the only IAM Identity Center instances
 *   regions = ["eu-west-1"]
 *   [profiles]
 *   accounts = ["123456789012"]                      # the only accounts a profile may name
 *   scope_roots = ["audit-logs/", "reports"]          # every scope entry lies under one of these
 *   window = "1h"                                     # ceilings
 *   max_window = "4h"
 *   session_ttl = "1h"
 *   require_reason = true                             # forced on
 *   on_demand = false                                 # grant = "on-demand" not allowed
 *   hours = "Mon-Fri 07:00-20:00"                     # windows only inside these hours
 *   timezone = "Europe/Berlin"
 *   [daemon]
 *   keychain = "os"                                   # forced: nothing in memory-only mode
 *   audit_retention = "90d"                           # the audit log keeps at least this much
 */
export interface ManagedPolicy {
  file: string;
  startUrls?: string[];
  ssoRegions?: string[];
  accounts?: string[];
  scopeRoots?: ScopeEntry[];
  window?: number;
  maxWindow?: number;
  sessionTtl?: number;
  requireReason?: boolean;
  onDemand?: boolean;
  hours?: string;
  timezone?: string;
  keychain?: "os";
  /** The audit log keeps at least this much history (ms): rotation keeps more files if needed. */
  auditRetention?: number;
  /** Null when the file is a control: root-owned and writable by nobody else. Else why it is not. */
  notAControl: string | null;
}

export const MANAGED_POLICY_FILES: Partial<Record<NodeJS.Platform, string>> = {
  linux: "/etc/s3jit/policy.toml",
  darwin: "/Library/Application Support/s3jit/policy.toml",
};

/**
 * Where the managed policy is. `S3JIT_MANAGED_POLICY` names another file only where the system
 * file is absent: tests use it on machines with no system policy, and a user cannot point it away
 * from one their organisation installed.
 */
export function managedPolicyPath(env: NodeJS.ProcessEnv = process.env, systemFile = MANAGED_POLICY_FILES[process.platform]): string | null {
  if (systemFile && existsSync(systemFile)) return systemFile;
  return env.S3JIT_MANAGED_POLICY ? path.resolve(env.S3JIT_MANAGED_POLICY) : null;
}

/** Reads the managed policy, or null where there is none; a broken one is a ConfigError naming it. */
export function readManagedPolicy(file: string | null): ManagedPolicy | null {
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, "file", `the managed policy cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); ask whoever manages this machine`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text, { unsafeKeyBehaviour: "throw" }) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(file, "file", `the managed policy is not valid TOML: ${(err as Error).message.split("\n")[0]}`);
  }
  const root = Section.root(file, doc, ["sso", "profiles", "daemon"], "the managed policy's top level");
  const sso = root.child("sso", ["start_urls", "regions"], "[sso] of the managed policy");
  const profiles = root.child("profiles", ["accounts", "scope_roots", "window", "max_window", "session_ttl", "require_reason", "on_demand", "hours", "timezone"], "[profiles] of the managed policy");
  const daemon = root.child("daemon", ["keychain", "audit_retention"], "[daemon] of the managed policy");
  const list = <T>(s: Section | undefined, key: string, item: Reader<T>) => s?.optional(key, listOf(item));
  const policy: ManagedPolicy = { file, notAControl: controlProblem(file) };
  const set = <K extends keyof ManagedPolicy>(key: K, value: ManagedPolicy[K] | undefined) => {
    if (value !== undefined) policy[key] = value;
  };
  set("startUrls", list(sso, "start_urls", read.httpsUrl)?.map(normalizeUrl));
  set("ssoRegions", list(sso, "regions", read.region));
  set("accounts", list(profiles, "accounts", read.accountId));
  set("scopeRoots", list(profiles, "scope_roots", read.scopeEntry));
  set("window", profiles?.optional("window", read.duration));
  set("maxWindow", profiles?.optional("max_window", read.duration));
  set("sessionTtl", profiles?.optional("session_ttl", read.duration));
  set("requireReason", profiles?.optional("require_reason", read.boolean));
  set("onDemand", profiles?.optional("on_demand", read.boolean));
  set("timezone", profiles?.optional("timezone", read.timezone));
  const hours = profiles?.optional("hours", read.string('hours like "Mon-Fri 08:00-19:00"'));
  if (hours !== undefined) {
    try {
      parseHours(hours);
    } catch (err) {
      throw new ConfigError(file, "profiles.hours", (err as Error).message);
    }
    if (policy.timezone === undefined) throw new ConfigError(file, "profiles.timezone", "missing; hours need the time zone they are read in");
    policy.hours = hours;
  }
  set("keychain", daemon?.optional("keychain", read.oneOf(["os"] as const)));
  set("auditRetention", daemon?.optional("audit_retention", read.duration));
  return policy;
}

/** A non-empty list of values each read by `item`. */
function listOf<T>(item: Reader<T>): Reader<T[]> {
  return (v) => {
    if (!Array.isArray(v) || v.length === 0) throw new Invalid(`must be a non-empty list in brackets, like ["a", "b"], not ${describe(v)}`);
    return v.map((x, i) => {
      try {
        return item(x);
      } catch (err) {
        throw new Invalid(`item ${i + 1}: ${(err as Error).message}`);
      }
    });
  };
}

/** A file the user (or anyone but root) can change bounds nothing: doctor says so. */
function controlProblem(file: string): string | null {
  if (process.platform === "win32") return null;
  const st = lstatSync(file);
  if (!st.isFile()) return "it is not a regular file";
  if (st.uid !== 0) return `it belongs to uid ${st.uid}, not root: its owner can change it`;
  if ((st.mode & 0o022) !== 0) return `it is writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")})`;
  return null;
}

const normalizeUrl = (u: string) => u.replace(/\/+$/, "");

/**
 * Holds `config` to the managed policy. A value the user wrote beyond a ceiling refuses the
 * config (ConfigError naming both files, the key, the value and the ceiling); a default beyond
 * one is lowered to it, and forced settings apply where the user wrote nothing.
 * `userDoc` is the user's TOML as parsed, to tell written values from defaults.
 */
export function applyManagedPolicy(config: Config, userDoc: Record<string, unknown>, policy: ManagedPolicy | null): Config {
  if (!policy) return config;
  const refuse = (key: string, what: string): never => {
    throw new ConfigError(config.file, key, `${what} — set by the managed policy ${policy.file}, which this config may not exceed`);
  };
  const written = (table: string, name: string | null, key: string): boolean => {
    const t = (userDoc[table] ?? {}) as Record<string, unknown>;
    const section = (name === null ? t : (t[name] ?? {})) as Record<string, unknown>;
    return section[key] !== undefined;
  };

  if (policy.keychain && config.daemon.keychain !== policy.keychain) refuse("daemon.keychain", `"${config.daemon.keychain}" is not allowed; keychain must be "${policy.keychain}"`);
  for (const [name, sso] of Object.entries(config.sso)) {
    if (policy.startUrls && !policy.startUrls.includes(normalizeUrl(sso.startUrl))) refuse(`sso.${name}.start_url`, `"${sso.startUrl}" is not an allowed start URL (allowed: ${policy.startUrls.join(", ")})`);
    if (policy.ssoRegions && !policy.ssoRegions.includes(sso.region)) refuse(`sso.${name}.region`, `"${sso.region}" is not an allowed region (allowed: ${policy.ssoRegions.join(", ")})`);
  }
  const profiles: Record<string, ProfileConfig> = Object.create(null);
  for (const [name, p] of Object.entries(config.profiles)) {
    const key = (k: string) => `profile.${name}.${k}`;
    const next: ProfileConfig = { ...p };
    if (policy.accounts) {
      if (!policy.accounts.includes(p.accountId)) refuse(key("account_id"), `"${p.accountId}" is not an allowed account (allowed: ${policy.accounts.join(", ")})`);
      const roleAccount = p.roleArn?.split(":")[4];
      if (roleAccount !== undefined && !policy.accounts.includes(roleAccount)) refuse(key("role_arn"), `names account ${roleAccount}, which is not allowed (allowed: ${policy.accounts.join(", ")})`);
    }
    if (policy.scopeRoots) {
      const roots = policy.scopeRoots;
      for (const e of p.scope) {
        if (!roots.some((r) => r.bucket === e.bucket && e.prefix.startsWith(r.prefix))) {
          refuse(key("scope"), `"${e.bucket}${e.prefix ? `/${e.prefix}` : ""}" lies outside the allowed scope roots (${roots.map((r) => `${r.bucket}${r.prefix ? `/${r.prefix}` : ""}`).join(", ")})`);
        }
      }
    }
    for (const [field, tomlKey] of [["window", "window"], ["maxWindow", "max_window"], ["sessionTtl", "session_ttl"]] as const) {
      const ceiling = policy[field];
      if (ceiling === undefined || next[field] <= ceiling) continue;
      if (written("profile", name, tomlKey)) refuse(key(tomlKey), `"${formatDuration(next[field])}" is above the ceiling "${formatDuration(ceiling)}"`);
      next[field] = ceiling;
    }
    // A lowered max_window lowers a default window with it.
    if (next.window > next.maxWindow && !written("profile", name, "window")) next.window = next.maxWindow;
    if (policy.requireReason && !next.requireReason) {
      if (written("profile", name, "require_reason")) refuse(key("require_reason"), "false is not allowed; a reason is required for every grant");
      next.requireReason = true;
    }
    if (policy.onDemand === false && next.grant === "on-demand") refuse(key("grant"), `"on-demand" is not allowed; windows open only with \`s3jit grant\``);
    if (policy.hours !== undefined) {
      if (next.hours === undefined) {
        next.hours = policy.hours;
        next.timezone = policy.timezone!;
      } else if (next.timezone !== policy.timezone || !within(next.hours, policy.hours)) {
        refuse(key("hours"), `"${next.hours}" (${next.timezone ?? "no time zone"}) is not inside the allowed hours "${policy.hours}" (${policy.timezone})`);
      }
    }
    profiles[name] = next;
  }
  return { ...config, profiles, managed: policy };
}

/** Whether every range of `inner` lies inside a range of `outer`, day by day (same time zone). */
function within(inner: string, outer: string): boolean {
  const a = parseHours(inner);
  const b = parseHours(outer);
  return a.days.every((ranges, day) => ranges.every(([s, e]) => b.days[day]!.some(([os, oe]) => os <= s && e <= oe)));
}

/** What the managed policy holds, as status --json and doctor show it (durations as written). */
export function describeManagedPolicy(policy: ManagedPolicy): { file: string; control: boolean; notAControl?: string; caps: Record<string, unknown> } {
  const { file, notAControl, ...caps } = policy;
  const shown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(caps)) {
    if (v === undefined) continue;
    shown[k] = k === "window" || k === "maxWindow" || k === "sessionTtl" || k === "auditRetention" ? formatDuration(v as number) : k === "scopeRoots" ? (v as ScopeEntry[]).map((e) => `${e.bucket}${e.prefix ? `/${e.prefix}` : ""}`) : v;
  }
  return { file, control: notAControl === null, ...(notAControl ? { notAControl } : {}), caps: shown };
}
