import { readFileSync } from "node:fs";
import { auditFiles } from "../audit/audit.js";
import { parseDuration } from "../config/duration.js";
import { UsageError } from "../errors.js";
import { EXIT, type Io } from "./io.js";

export interface AuditInput {
  since?: string;
  json: boolean;
  file: string;
}

type Line = { time?: string; event?: string } & Record<string, unknown>;

/**
 * The audit trail, read straight from the user's own 0600 files (the daemon need not run).
 * Lines that do not parse are shown as such, never dropped silently.
 */
export async function run(input: AuditInput, deps: { io: Io }, now = Date.now()): Promise<number> {
  let since = 0;
  if (input.since) {
    try {
      since = now - parseDuration(input.since);
    } catch (err) {
      throw new UsageError(`--since: ${(err as Error).message}`);
    }
  }
  const files = auditFiles(input.file);
  if (files.length === 0) {
    deps.io.err(`no audit log yet at ${input.file}`);
    return EXIT.ok;
  }
  for (const f of files) {
    for (const raw of readFileSync(f, "utf8").split("\n")) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        deps.io.out(input.json ? raw : `?? unreadable line in ${f}`);
        continue;
      }
      if (since && (!line.time || Date.parse(line.time) < since)) continue;
      deps.io.out(input.json ? raw : human(line));
    }
  }
  return EXIT.ok;
}

const SHOWN_FIRST = ["profile", "sso", "code", "reason", "who", "start", "end", "expiration", "accessKeyId"];

export function human(line: Line): string {
  const { time, event, ...rest } = line;
  delete rest.level;
  const keys = [...SHOWN_FIRST.filter((k) => k in rest), ...Object.keys(rest).filter((k) => !SHOWN_FIRST.includes(k))];
  const fields = keys.map((k) => `${k}=${typeof rest[k] === "string" ? (/\s/.test(rest[k] as string) ? JSON.stringify(rest[k]) : rest[k]) : JSON.stringify(rest[k])}`);
  return `${time ?? "?"}  ${String(event ?? "?").padEnd(7)} ${fields.join(" ")}`;
}
