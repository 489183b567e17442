import pino, { type Logger } from "pino";
import { chmodSync, closeSync, openSync } from "node:fs";
import path from "node:path";
import { ensurePrivateDir } from "../paths.js";

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

/** JSON lines in a 0600 file, one object per event. */
export function fileAudit(file: string): Audit {
  ensurePrivateDir(path.dirname(file));
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
  const dest = pino.destination({ dest: file, sync: false, mkdir: false });
  const log = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, dest);
  return loggerAudit(log, () => new Promise<void>((resolve) => dest.flush(() => resolve())));
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
