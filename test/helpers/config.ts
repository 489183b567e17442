/**
 * The test world's config.toml, spelled once: the sandbox's IAM Identity Center instance `corp`
 * and its profiles. Tests, the demo and the benchmark build theirs from these pieces, so a change
 * to the config's keys is made here and nowhere else. No imports: the demo and the bench load
 * this without the sandbox's weight.
 */

/** A TOML value as s3jit's config uses them. */
export type TomlValue = string | number | boolean | readonly string[];

/** A profile's keys as written in config.toml (snake_case); undefined leaves a key out. */
export type ProfileKeys = Partial<Record<string, TomlValue | undefined>>;

/** What every test profile shares: the sandbox's SSO instance, account, role and region. */
const BASE: ProfileKeys = {
  sso: "corp",
  account_id: "123456789012",
  sso_role: "S3JitBase",
  region: "eu-west-1",
};

/** The `audit` profile of DESIGN.md's example, the one most tests grant. */
export const AUDIT: ProfileKeys = {
  scope: ["audit-logs/2026/", "reports"],
  window: "30m",
  max_window: "2h",
  session_ttl: "1h",
};

/** The assume-role mode's role in the sandbox's account. */
export const ROLE_ARN = "arn:aws:iam::123456789012:role/s3-readonly-jit";

function value(v: TomlValue): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return `[${v.map((s) => JSON.stringify(s)).join(", ")}]`;
}

/** `key = value` lines, in the order given; undefined values are left out. */
function lines(keys: ProfileKeys): string {
  return Object.entries(keys)
    .filter((e): e is [string, TomlValue] => e[1] !== undefined)
    .map(([k, v]) => `${k} = ${value(v)}\n`)
    .join("");
}

/**
 * One `[profile.NAME]` section: the shared base (sso, account, role, region), then `keys` (a key
 * of the base given again replaces its value). Starts with a blank line.
 */
export function profileToml(name: string, keys: ProfileKeys = {}): string {
  return `\n[profile.${name}]\n${lines({ ...BASE, ...keys })}`;
}

/** The `[sso.corp]` section: the sandbox's instance (any start URL; the sandbox answers every one). */
export const SSO_TOML = `[sso.corp]\nstart_url = "https://corp.awsapps.com/start"\nregion = "eu-west-1"\n`;

/** The `[daemon]` section: any free port, and by default a keychain that forgets with the process. */
export function daemonToml(opts: { keychain?: "memory" | "os"; port?: number } = {}): string {
  return `[daemon]\nport = ${opts.port ?? 0}\nkeychain = "${opts.keychain ?? "memory"}"\n`;
}

/** A whole config.toml: [daemon], [sso.corp], then `profiles` (sections from profileToml, or raw TOML). */
export function configToml(opts: { keychain?: "memory" | "os"; port?: number; profiles: string }): string {
  return `${daemonToml(opts)}\n${SSO_TOML}${opts.profiles}`;
}

/** `[profile.audit]`, as DESIGN.md's example has it. */
export const PROFILE_TOML = profileToml("audit", AUDIT);

/** A second profile for tests that need two (a token must open only its own). */
export const OTHER_PROFILE_TOML = profileToml("other", { scope: ["other-bucket"] });
