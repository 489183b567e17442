import { closeSync, fstatSync, openSync, readFileSync, readSync, watch } from "node:fs";
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
    // The live file is read through the descriptor whose inode is kept: a rotation in between
    // must not make the follower take another file's inode for the one it read.
    const live = f === input.file ? openWithInode(f) : null;
    if (f === input.file && !live) continue; // rotated away just now: follow() starts with the new one
    let text: string;
    try {
      text = readFileSync(live ? live.fd : f, "utf8");
    } finally {
      if (live) closeSync(live.fd);
    }
    if (live) end = { ino: live.ino, size: Buffer.byteLength(text) };
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

/** `f` opened for reading, with the inode of what was opened; null if it is not there. */
function openWithInode(f: string): { fd: number; ino: number } | null {
  let fd: number;
  try {
    fd = openSync(f, "r");
  } catch {
    return null;
  }
  return { fd, ino: fstatSync(fd).ino };
}

/**
 * Prints each line appended to `file` from `from` on, once, across rotations (the daemon renames
 * audit.log to audit.log.1 and starts a new one: the rest of the old file is read first), until
 * `stop` resolves. Woken by the OS's file events, not a polling loop.
 *
 * Files are known by inode and read through the descriptor whose inode was checked: a rotation
 * may rename any of them between a look at a name and a read of it (a follower on a busy machine
 * reads while the daemon writes), and reading "audit.log" after it became another file would skip
 * or repeat lines.
 */
async function follow(file: string, from: { ino: number; size: number }, emit: (raw: string) => void, stop: Promise<void>): Promise<void> {
  let { ino, size: offset } = from;
  let partial = "";
  const readFd = (fd: number, start: number): number => {
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
  };
  /** The rest of the file we were reading, then every newer old one, oldest first. */
  const finishRotated = () => {
    const old = auditFiles(file).slice(0, -1);
    const opened = old.map(openWithInode);
    try {
      const at = opened.findIndex((o) => o?.ino === ino);
      if (ino === -1 || at === -1) return;
      readFd(opened[at]!.fd, offset);
      for (const o of opened.slice(at + 1)) if (o) readFd(o.fd, 0);
    } finally {
      for (const o of opened) if (o) closeSync(o.fd);
    }
  };
  const catchUp = () => {
    const current = openWithInode(file);
    if (!current) return; // between the rename and the new file: the next event brings it
    try {
      if (current.ino !== ino) {
        // Rotated (maybe more than once since the last event).
        finishRotated();
        ino = current.ino;
        offset = 0;
        partial = "";
      }
      offset = readFd(current.fd, offset);
    } finally {
      closeSync(current.fd);
    }
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
