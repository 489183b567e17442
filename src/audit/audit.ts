import pino, { type Logger } from "pino";
import { chmodSync, closeSync, existsSync, openSync, readdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { ensurePrivateDir } from "../platform/files.js";

/** The audit line schema version every line carries as "v". */
export const AUDIT_SCHEMA = 1;

export type AuditEvent = "start" | "stop" | "login" | "logout" | "grant" | "revoke" | "mint" | "serve" | "refuse" | "expire" | "error";

/**
 * Fields that may hold a secret wherever they appear. pino's redaction runs on every line, so a
 * careless caller still cannot write a key or token to the log.
 */
export const REDACT_PATHS = [
  "secretAccessKey",
  "sessionToken",
  "accessToken",
  "refreshToken",
  "clientSecret",
  "token",
  "authorization",
  "SecretAccessKey",
  "SessionToken",
  "Token",
  "*.secretAccessKey",
  "*.sessionToken",
  "*.accessToken",
  "*.refreshToken",
  "*.clientSecret",
  "*.token",
  "*.authorization",
  "*.SecretAccessKey",
  "*.SessionToken",
  "*.Token",
  "req.headers.authorization",
];

export interface Audit {
  record(event: AuditEvent, fields: Record<string, unknown>): void;
  flush(): Promise<void>;
}

export interface RotationOptions {
  /** Rotate when the file grows past this many bytes. */
  maxBytes?: number;
  /** Keep this many old files (audit.log.1 … audit.log.N). */
  keep?: number;
  /** Also hands every line (redacted, as written) here: under systemd, the unit's journal. */
  mirror?: (line: string) => void;
  /**
   * Never drop an old file whose newest line is younger than this (a managed policy's minimum
   * audit retention): rotation keeps more files instead.
   */
  minRetentionMs?: number;
  now?: () => number;
}

/**
 * Sized so that rotation never drops a line written in the last 30 days (issue 15): refusals are
 * bounded summaries (refusals.ts: at most 17 lines per 5 minutes, about 37 MB in 30 days of a
 * flood that never stops), and a heavy user's own lines (a serve line per process and session,
 * mints, grants) stay under 20 MB in 30 days. Up to 80 MiB on disk (the current file and 7 old).
 * test/neighbours/audit-kept.test.ts holds these numbers to the code.
 */
export const AUDIT_FILE_BYTES = 10 * 1024 * 1024;
export const AUDIT_FILES_KEPT = 7;

/** JSON lines in a 0600 file, one object per event, rotated by size (audit.log.1 is the newest old one). */
export function fileAudit(file: string, rotation: RotationOptions = {}): Audit {
  const maxBytes = rotation.maxBytes ?? AUDIT_FILE_BYTES;
  const keep = rotation.keep ?? AUDIT_FILES_KEPT;
  ensurePrivateDir(path.dirname(file));
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
  let size = statSync(file).size;
  // Written synchronously: an audit line is rare (a grant, a mint, one serve per session and
  // connection, bounded refusal summaries), and rotation must find nothing in flight. With
  // asynchronous writes the line that crossed the limit was still being written to the old file's
  // descriptor when it was renamed: it landed in audit.log.1 after a follower (`s3jit audit
  // --follow`, a log shipper) had finished that file and moved on, and was lost to it (seen as a
  // timed-out follow test on CI's Node 24 pass and in a whole-suite run under load).
  const dest = pino.destination({ dest: file, sync: true, mkdir: false, mode: 0o600 } as Parameters<typeof pino.destination>[0]);
  const rotate = () => {
    try {
      dest.flushSync();
    } catch {
      // not open yet: nothing buffered to lose
    }
    // The file past the last kept one is dropped (overwritten) unless retention still needs it.
    let last = keep;
    const retainFrom = (rotation.now ?? Date.now)() - (rotation.minRetentionMs ?? 0);
    while (rotation.minRetentionMs && existsSync(`${file}.${last}`) && statSync(`${file}.${last}`).mtimeMs >= retainFrom) last++;
    for (let i = last - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    renameSync(file, `${file}.1`);
    closeSync(openSync(file, "a", 0o600));
    dest.reopen();
    size = 0;
  };
  // Count what pino hands the file, so rotation needs no stat per line.
  const stream = {
    write(line: string) {
      size += Buffer.byteLength(line);
      dest.write(line);
      rotation.mirror?.(line);
      if (size >= maxBytes) rotate();
    },
  };
  // "v": the audit line schema (README, "The audit log"); it changes only when a field changes meaning.
  const log = pino({ base: { v: AUDIT_SCHEMA }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, stream);
  // SonicBoom's flush() returns at once when it does not buffer (minLength 0): wait until the file
  // is open and no write is pending, so "stop" and tests really find every line on disk.
  const state = dest as unknown as { fd: number; _writing: boolean; _len: number };
  const flush = () =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (state.fd >= 0 && !state._writing && state._len === 0) return resolve();
        // Only while flushing (at stop, in tests): re-check shortly, no standing timer.
        setTimeout(check, 5);
      };
      check();
    });
  return loggerAudit(log, flush);
}

/** The audit files, oldest first: audit.log.N … audit.log.1, audit.log. */
export function auditFiles(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const old = existsSync(dir)
    ? readdirSync(dir)
        .map((n) => /^(.+)\.(\d+)$/.exec(n))
        .filter((m): m is RegExpExecArray => !!m && m[1] === base)
        .sort((a, b) => Number(b[2]) - Number(a[2]))
        .map((m) => path.join(dir, m[0]))
    : [];
  return existsSync(file) ? [...old, file] : old;
}

export function loggerAudit(log: Logger, flush: () => Promise<void> = async () => {}): Audit {
  return {
    record(event, fields) {
      log.info({ event, ...fields });
    },
    flush,
  };
}

export const nullAudit: Audit = { record() {}, flush: async () => {} };
