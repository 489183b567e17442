import { closeSync, openSync, readFileSync, readSync, statSync, watch } from "node:fs";
import path from "node:path";
import { auditFiles } from "../audit/audit.js";
import { parseDuration } from "../config/duration.js";
import { UsageError } from "../errors.js";
import { EXIT, type Io } from "./io.js";
import { terminalText } from "./safe-text.js";

export interface AuditInput {
  since?: string;
  json: boolean;
  file: string;
  /** Keep running and print each new line as the daemon writes it (for a log shipper). */
  follow?: boolean;
}

type Line = { time?: string; event?: string } & Record<string, unknown>;

/**
 * The audit trail, read straight from the user's own 0600 files (the daemon need not run).
 * Lines that do not parse are shown as such, never dropped silently.
 */
export async function run(input: AuditInput, deps: { io: Io; stop?: Promise<void> }, now = Date.now()): Promise<number> {
  let since = 0;
  if (input.since) {
    try {
      since = now - parseDuration(input.since);
    } catch (err) {
      throw new UsageError(`--since: ${(err as Error).message}`);
    }
  }
  // A shipper's supervisor may stop it at any moment, even while the old lines are printed.
  const stop = input.follow ? (deps.stop ?? untilSignal()) : undefined;
  const files = auditFiles(input.file);
  if (files.length === 0 && !input.follow) {
    deps.io.err(`no audit log yet at ${input.file}`);
    return EXIT.ok;
  }
  const show = (raw: string, f: string) => {
    if (!raw) return;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      deps.io.out(input.json ? raw : `?? unreadable line in ${f}`);
      return;
    }
    if (since && (!line.time || Date.parse(line.time) < since)) return;
    deps.io.out(input.json ? raw : human(line));
  };
  let end = { ino: -1, size: 0 };
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    if (f === input.file) end = { ino: statSync(f).ino, size: Buffer.byteLength(text) };
    // The last line may still be being written: in follow mode the follower prints it once whole.
    const lines = text.split("\n");
    const partial = lines.pop() ?? "";
    for (const raw of lines) show(raw, f);
    if (f === input.file) end.size -= Buffer.byteLength(partial);
    else show(partial, f);
  }
  if (!input.follow) return EXIT.ok;
  await follow(input.file, end, (raw) => show(raw, input.file), stop!);
  return EXIT.ok;
}

function inode(f: string): number {
  try {
    return statSync(f).ino;
  } catch {
    return -2;
  }
}

/**
 * Prints each line appended to `file` from `from` on, once, across rotations (the daemon renames
 * audit.log to audit.log.1 and starts a new one: the rest of the old file is read first), until
 * `stop` resolves. Woken by the OS's file events, not a polling loop.
 */
async function follow(file: string, from: { ino: number; size: number }, emit: (raw: string) => void, stop: Promise<void>): Promise<void> {
  let { ino, size: offset } = from;
  let partial = "";
  const readFrom = (f: string, start: number): number => {
    let fd: number;
    try {
      fd = openSync(f, "r");
    } catch {
      return start;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      let pos = start;
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
        const lines = (partial + buf.subarray(0, n).toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) emit(l);
      }
      return pos;
    } finally {
      closeSync(fd);
    }
  };
  const catchUp = () => {
    let st;
    try {
      st = statSync(file);
    } catch {
      return; // between the rename and the new file: the next event brings it
    }
    if (st.ino !== ino) {
      // Rotated (maybe more than once since the last event): finish the file we were reading,
      // found by its inode among the old ones, then every newer old one, then the new file.
      const old = auditFiles(file).slice(0, -1);
      const at = old.findIndex((f) => inode(f) === ino);
      if (ino !== -1 && at !== -1) {
        readFrom(old[at]!, offset);
        for (const f of old.slice(at + 1)) readFrom(f, 0);
      }
      ino = st.ino;
      offset = 0;
      partial = "";
    }
    offset = readFrom(file, offset);
  };
  const watcher = watch(path.dirname(file), () => catchUp());
  catchUp();
  await stop;
  watcher.close();
}

/** Resolves at the first SIGINT or SIGTERM (then the command ends normally, exit 0). */
function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}

const SHOWN_FIRST = ["profile", "sso", "code", "reason", "who", "start", "end", "expiration", "accessKeyId"];

/** A value on one terminal line: quoted where it has spaces or quotes; control characters escaped (safe-text.ts). */
const shown = (v: unknown): string => terminalText(typeof v === "string" && !/[\s"\\]/.test(v) ? v : (JSON.stringify(v) ?? String(v)));

export function human(line: Line): string {
  const { time, event, ...rest } = line;
  delete rest.level;
  delete rest.v;
  const keys = [...SHOWN_FIRST.filter((k) => k in rest), ...Object.keys(rest).filter((k) => !SHOWN_FIRST.includes(k))];
  const fields = keys.map((k) => `${terminalText(k)}=${shown(rest[k])}`);
  return `${terminalText(String(time ?? "?"))}  ${terminalText(String(event ?? "?")).padEnd(7)} ${fields.join(" ")}`;
}
