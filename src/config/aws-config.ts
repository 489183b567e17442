import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** An `[sso-session NAME]` of the AWS CLI config, as written there (validated by the caller). */
export interface AwsSsoSession {
  startUrl?: string;
  region?: string;
  /** sso_registration_scopes, split at commas. */
  registrationScopes?: string[];
}

/** Where the AWS CLI keeps its config: the explicit file, else AWS_CONFIG_FILE, else ~/.aws/config. */
export function awsConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  const file = explicit ?? env.AWS_CONFIG_FILE ?? path.join(os.homedir(), ".aws", "config");
  // The AWS CLI expands "~" itself; users write AWS_CONFIG_FILE=~/work/aws-config and expect it to work.
  return file === "~" || file.startsWith("~/") ? path.join(os.homedir(), file.slice(1)) : path.resolve(file);
}

/**
 * The sso-session sections of an AWS CLI config file (INI). Follows botocore's reading of it: keys
 * are lower-cased, `#` and `;` start a comment only at the start of a line (start URLs copied from
 * the portal end in "#/", so no inline comments), and indented lines continue a nested value,
 * which sso-session sections never use.
 */
export function parseSsoSessions(text: string): Map<string, AwsSsoSession> {
  const sessions = new Map<string, AwsSsoSession>();
  let current: AwsSsoSession | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]*?)\s*\]$/.exec(line);
    if (header) {
      const words = (header[1] ?? "").split(/\s+/);
      const name = words[0] === "sso-session" && words.length === 2 ? words[1] : undefined;
      current = name === undefined ? undefined : (sessions.get(name) ?? {});
      if (name !== undefined && current) sessions.set(name, current);
      continue;
    }
    if (!current || /^\s/.test(raw)) continue;
    const eq = line.indexOf("=");
    if (eq === -1) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === "sso_start_url") current.startUrl = value;
    else if (key === "sso_region") current.region = value;
    else if (key === "sso_registration_scopes") {
      current.registrationScopes = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    }
  }
  return sessions;
}

/** Reads and parses the file; throws the fs error (ENOENT and friends) for the caller to explain. */
export function readSsoSessions(file: string): Map<string, AwsSsoSession> {
  return parseSsoSessions(readFileSync(file, "utf8"));
}

/** One `key = value` of an AWS shared file; `nested` holds the indented lines under it (`s3 =` then `  addressing_style = path`). */
export interface AwsIniEntry {
  key: string;
  value: string;
  nested: string[];
}

/** A section of an AWS shared file: `name` is the text inside the brackets, spaces collapsed ("profile work", "default", "sso-session corp"). */
export interface AwsIniSection {
  name: string;
  entries: AwsIniEntry[];
}

/**
 * The sections of an AWS config or credentials file, in order, read as botocore reads them: keys
 * lower-cased, `#` and `;` comments only at the start of a line (values keep a `#`: start URLs
 * end in "#/"), indented lines belong to the entry above (a nested block like `s3 =`), lines
 * before the first section ignored. A section named twice is two sections here; later keys win
 * when they are merged (profileSettings).
 */
export function parseAwsIni(text: string): AwsIniSection[] {
  const sections: AwsIniSection[] = [];
  let current: AwsIniSection | undefined;
  let last: AwsIniEntry | undefined;
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]]*)\]/.exec(line);
    if (header && !/^\s/.test(raw)) {
      current = { name: (header[1] ?? "").trim().split(/\s+/).join(" "), entries: [] };
      sections.push(current);
      last = undefined;
      continue;
    }
    if (!current) continue;
    if (/^\s/.test(raw) && last) {
      last.nested.push(line);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq === -1) {
      last = undefined;
      continue;
    }
    last = { key: line.slice(0, eq).trim().toLowerCase(), value: line.slice(eq + 1).trim(), nested: [] };
    current.entries.push(last);
  }
  return sections;
}
