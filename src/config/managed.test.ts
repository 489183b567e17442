import { afterAll, describe, expect, it } from "vitest";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "smol-toml";
import { parseConfig } from "./load.js";
import { applyManagedPolicy, managedPolicyPath, readManagedPolicy } from "./managed.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "s3jit-managed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function managed(text: string) {
  const file = path.join(dir, `policy-${n++}.toml`);
  writeFileSync(file, text, { mode: 0o644 });
  return readManagedPolicy(file)!;
}

const USER_FILE = "/home/u/.config/s3jit/config.toml";
const BASE = `
[sso.corp]
start_url = "https://corp.awsapps.com/start"
region = "eu-west-1"

[profile.audit]
sso = "corp"
account_id = "123456789012"
sso_role = "S3JitBase"
region = "eu-west-1"
scope = ["audit-logs/2026/", "reports"]
`;

function load(userToml: string, policyToml: string) {
  const text = BASE + userToml;
  const config = parseConfig(text, USER_FILE, { awsConfigFile: path.join(dir, "none") });
  return applyManagedPolicy(config, parse(text) as Record<string, unknown>, managed(policyToml));
}

describe("a user config beyond the managed policy does not load", () => {
  // Each cap: what the user wrote, the policy, the key and the words the error must carry.
  it.each([
    ["start URL", `[sso.other]\nstart_url = "https://evil.awsapps.com/start"\nregion = "eu-west-1"\n`, `[sso]\nstart_urls = ["https://corp.awsapps.com/start/"]`, "sso.other.start_url", "https://evil.awsapps.com/start"],
    ["SSO region", "", `[sso]\nregions = ["us-east-1"]`, "sso.corp.region", '"eu-west-1" is not an allowed region'],
    ["account", "", `[profiles]\naccounts = ["999999999999"]`, "profile.audit.account_id", '"123456789012" is not an allowed account'],
    ["scope root", "", `[profiles]\nscope_roots = ["audit-logs/2026/"]`, "profile.audit.scope", '"reports" lies outside the allowed scope roots (audit-logs/2026/)'],
    ["scope root (a prefix above the root)", "", `[profiles]\nscope_roots = ["audit-logs/2026/01/", "reports"]`, "profile.audit.scope", '"audit-logs/2026/" lies outside'],
    ["window", `window = "2h"\nmax_window = "4h"\n`, `[profiles]\nwindow = "1h"`, "profile.audit.window", '"2h" is above the ceiling "1h"'],
    ["max_window", `max_window = "8h"\n`, `[profiles]\nmax_window = "4h"`, "profile.audit.max_window", '"8h" is above the ceiling "4h"'],
    ["session_ttl", `session_ttl = "2h"\n`, `[profiles]\nsession_ttl = "1h"`, "profile.audit.session_ttl", '"2h" is above the ceiling "1h"'],
    ["require_reason", `require_reason = false\n`, `[profiles]\nrequire_reason = true`, "profile.audit.require_reason", "a reason is required"],
    ["on-demand grants", `grant = "on-demand"\n`, `[profiles]\non_demand = false`, "profile.audit.grant", '"on-demand" is not allowed'],
    ["hours outside the allowed ones", `hours = "Mon-Fri 06:00-19:00"\ntimezone = "Europe/Berlin"\n`, `[profiles]\nhours = "Mon-Fri 07:00-20:00"\ntimezone = "Europe/Berlin"`, "profile.audit.hours", "is not inside the allowed hours"],
    ["hours in another time zone", `hours = "Mon-Fri 08:00-19:00"\ntimezone = "UTC"\n`, `[profiles]\nhours = "Mon-Fri 07:00-20:00"\ntimezone = "Europe/Berlin"`, "profile.audit.hours", "(UTC) is not inside"],
    ["memory keychain", `[daemon]\nkeychain = "memory"\n`, `[daemon]\nkeychain = "os"`, "daemon.keychain", '"memory" is not allowed'],
  ])("%s", (_what, user, policy, key, words) => {
    // User sections after [profile.audit] would land in it: daemon/sso tables go first.
    const userToml = user.startsWith("[") ? "" : user;
    const text = user.startsWith("[") ? user + BASE : BASE + userToml;
    const policyFile = path.join(dir, `policy-${n}.toml`);
    let message = "";
    try {
      const config = parseConfig(text, USER_FILE, { awsConfigFile: path.join(dir, "none") });
      applyManagedPolicy(config, parse(text) as Record<string, unknown>, managed(policy));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(USER_FILE);
    expect(message).toContain(policyFile);
    expect(message).toContain(key);
    expect(message).toContain(words);
  });
});

describe("within the managed policy", () => {
  it("lowers defaults to the ceilings and applies forced settings where the user wrote nothing", () => {
    const p = load("", `[profiles]\nmax_window = "2h"\nwindow = "30m"\nsession_ttl = "15m"\nrequire_reason = true\nhours = "Mon-Fri 07:00-20:00"\ntimezone = "Europe/Berlin"`).profiles.audit!;
    expect(p.maxWindow).toBe(2 * 3600_000);
    expect(p.window).toBe(30 * 60_000);
    expect(p.sessionTtl).toBe(15 * 60_000);
    expect(p.requireReason).toBe(true);
    expect(p.hours).toBe("Mon-Fri 07:00-20:00");
    expect(p.timezone).toBe("Europe/Berlin");
  });

  it("keeps what the user wrote inside every cap", () => {
    const p = load(`window = "20m"\nmax_window = "1h"\nhours = "Mon-Thu 08:00-12:00"\ntimezone = "Europe/Berlin"\n`, `[sso]\nstart_urls = ["https://corp.awsapps.com/start"]\n[profiles]\naccounts = ["123456789012"]\nscope_roots = ["audit-logs", "reports"]\nmax_window = "2h"\nhours = "Mon-Fri 07:00-20:00"\ntimezone = "Europe/Berlin"`).profiles.audit!;
    expect(p.window).toBe(20 * 60_000);
    expect(p.maxWindow).toBe(3600_000);
    expect(p.hours).toBe("Mon-Thu 08:00-12:00");
  });

  it("reads a minimum audit retention (the daemon's rotation keeps more files for it)", () => {
    const p = managed(`[daemon]\naudit_retention = "90d"`);
    expect(p.auditRetention).toBe(90 * 86_400_000);
    expect(() => managed(`[daemon]\naudit_retention = 90`)).toThrow(/daemon\.audit_retention/);
  });

  it("a broken managed policy is an error naming it and the key", () => {
    expect(() => managed(`[profiles]\nwindow = "soon"`)).toThrow(/policy-\d+\.toml: profiles\.window: /);
    expect(() => managed(`[profiles]\nmax_windows = "1h"`)).toThrow(/max_windows/);
    expect(() => managed(`[profiles]\nhours = "Mon-Fri 08:00-19:00"`)).toThrow(/profiles\.timezone: missing/);
  });
});

describe("where the managed policy is, and whether it is a control", () => {
  it("S3JIT_MANAGED_POLICY is honoured only where the system file is absent", () => {
    const system = path.join(dir, "system-policy.toml");
    const env = { S3JIT_MANAGED_POLICY: path.join(dir, "mine.toml") };
    expect(managedPolicyPath(env, system)).toBe(env.S3JIT_MANAGED_POLICY);
    writeFileSync(system, "");
    expect(managedPolicyPath(env, system)).toBe(system);
    expect(managedPolicyPath({}, path.join(dir, "absent.toml"))).toBeNull();
  });

  it("a file its user can change is reported as not a control", () => {
    const p = managed("");
    if (process.getuid?.() === 0) {
      expect(p.notAControl).toBeNull(); // root-owned, 0644
      chmodSync(p.file, 0o666);
      expect(readManagedPolicy(p.file)!.notAControl).toMatch(/writable by group or others \(mode 0666\)/);
      chmodSync(p.file, 0o644);
      chownSync(p.file, 1000, 1000);
      expect(readManagedPolicy(p.file)!.notAControl).toMatch(/belongs to uid 1000, not root/);
    } else {
      expect(p.notAControl).toMatch(/not root: its owner can change it/);
    }
  });
});
