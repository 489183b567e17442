import { readFileSync } from "node:fs";

/**
 * The templates ship next to dist/ and src/ (package.json "files": launchd, systemd); both
 * src/service/ and dist/service/ sit two levels below the package root.
 */
export function readTemplate(relative: string): string {
  return readFileSync(new URL(`../../${relative}`, import.meta.url), "utf8");
}

/** Replace every `{{NAME}}`; a name without a value, or a value without a use, is a bug in the caller. */
export function fill(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`template has no placeholder for ${unused.join(", ")}`);
  return out;
}

// Control characters have no safe spelling in either format (XML 1.0 forbids most of them, and a
// newline would end a systemd setting); a path holding one is refused rather than mangled.
function refuseControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new Error(`refusing a path with a control character: ${JSON.stringify(s)}`);
  return s;
}

export function xmlEscape(s: string): string {
  return refuseControl(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/**
 * One word of a systemd setting, always double-quoted: C escapes for `\` and `"`, `%%` because
 * systemd expands specifiers (%h, %u…) in these settings, and in command lines `$$` because
 * ExecStart= expands environment variables.
 */
export function systemdWord(s: string, opts: { commandLine: boolean }): string {
  let v = refuseControl(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%");
  if (opts.commandLine) v = v.replace(/\$/g, "$$$$");
  return `"${v}"`;
}

/** A command as a POSIX shell would need it typed, for --dry-run output people may paste. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
