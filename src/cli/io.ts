import type { ControlClient } from "../control/client.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Colour only on a terminal, and never with NO_COLOR. */
  color: boolean;
  env: NodeJS.ProcessEnv;
}

export interface Deps {
  io: Io;
  client: ControlClient;
}

export const EXIT = { ok: 0, failure: 1, usage: 2, noDaemon: 3 } as const;

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    color: !!process.stdout.isTTY && !process.env.NO_COLOR,
    env: process.env,
  };
}

export function paint(io: Io, code: number, text: string): string {
  return io.color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

export function timeLeft(fromMs: number, toMs: number): string {
  let s = Math.max(0, Math.round((toMs - fromMs) / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}
