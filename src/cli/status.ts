import type { StatusReport } from "../control/contract.js";
import { S3jitError, UsageError } from "../errors.js";
import { waybar, waybarDaemonDown, xbar, xbarDaemonDown } from "./tray-formats.js";
import { EXIT, paint, timeLeft, type Deps, type Io } from "./io.js";
import { terminalText as t } from "./safe-text.js";

export interface StatusInput {
  json: boolean;
  format?: string;
}

export async function run(input: StatusInput, deps: Deps): Promise<number> {
  if (input.format === "waybar" || input.format === "xbar") return tray(input.format, deps);
  if (input.format && input.format !== "text") throw new UsageError(`--format takes text, xbar or waybar, not "${input.format}"`);
  const st = await deps.client.get<StatusReport>("/v1/status");
  deps.io.out(input.json ? JSON.stringify(st, null, 2) : human(st, deps.io, Date.now()));
  return EXIT.ok;
}

/** A tray polls this: with no daemon it still prints a valid item saying so, and exits 0. */
async function tray(format: "waybar" | "xbar", deps: Deps): Promise<number> {
  const cli = deps.io.env.S3JIT_TRAY_CLI ?? process.argv[1] ?? "s3jit";
  let st: StatusReport;
  try {
    st = await deps.client.get<StatusReport>("/v1/status");
  } catch (err) {
    if (err instanceof S3jitError && err.code === "DaemonNotRunning") {
      deps.io.out(format === "waybar" ? waybarDaemonDown() : xbarDaemonDown(cli));
      return EXIT.ok;
    }
    throw err;
  }
  deps.io.out(format === "waybar" ? waybar(st, Date.now()) : xbar(st, Date.now(), cli));
  return EXIT.ok;
}

/** Whole seconds read better on a terminal; the times stay UTC, as in --json. */
const at = (iso: string): string => t(iso.replace(/\.\d{3}Z$/, "Z"));

export function human(st: StatusReport, io: Io, now: number): string {
  // Names, reasons, warnings and codes come from users and configs: each goes through t() (safe-text.ts).
  const lines = [`s3jit ${t(st.daemon.version)} — daemon pid ${st.daemon.pid}, endpoint 127.0.0.1:${st.daemon.port}, keychain ${t(st.daemon.keychain)}`];
  for (const w of st.daemon.warnings ?? []) lines.push(paint(io, 33, `warning: ${t(w)}`));
  for (const [name, s] of Object.entries(st.sso)) {
    const state = s.loggedIn ? paint(io, 32, "logged in") + (s.expiresAt ? ` until ${at(s.expiresAt)}` : "") : paint(io, 33, s.loginPending ? "login in progress" : "login required: run `s3jit login " + t(name) + "`");
    lines.push(`sso ${t(name)}: ${state}`);
  }
  for (const [name, p] of Object.entries(st.profiles)) {
    const w = p.window;
    const win = w ? paint(io, 32, `open until ${at(w.end)} (${timeLeft(now, Date.parse(w.end))} left)`) + ` — ${t(w.reason)}${w.who ? ` (${t(w.who)})` : ""}` : paint(io, 2, "closed");
    lines.push(`profile ${t(name)} [${t(p.mode)}]: window ${win}`);
    if (p.session) lines.push(`  session valid until ${at(p.session.expiration)}`);
    if (p.loginRequired) lines.push(`  ${paint(io, 33, "login required")}`);
    if (p.lastRefusal) lines.push(`  last refusal: ${paint(io, 31, t(p.lastRefusal.code))} at ${at(p.lastRefusal.at)}`);
  }
  return lines.join("\n");
}
