import type { StatusReport } from "../control/contract.js";
import { pangoText, xbarText } from "./safe-text.js";

/** Under this much time left a window shows as closing soon (the tray turns amber). */
export const CLOSING_SOON_MS = 5 * 60_000;

export type TrayClass = "open" | "closed" | "login-required" | "closing-soon";

type Profile = StatusReport["profiles"][string];

const openUntil = (p: Profile, now: number): number | null => {
  const end = p.window?.open ? Date.parse(p.window.end) : NaN;
  return end > now ? end : null;
};

/** Whole minutes for a glance; a tray refreshing every minute should not show seconds. */
function left(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return "<1m";
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m` : `${m}m`;
}

/** The one state a tray colours by: a needed login first (nothing works), then the soonest end. */
export function trayClass(st: StatusReport, now: number): TrayClass {
  const profiles = Object.values(st.profiles);
  if (profiles.some((p) => p.loginRequired)) return "login-required";
  const ends = profiles.map((p) => openUntil(p, now)).filter((e): e is number => e !== null);
  if (!ends.length) return "closed";
  return Math.min(...ends) - now < CLOSING_SOON_MS ? "closing-soon" : "open";
}

function openWindows(st: StatusReport, now: number): [string, number][] {
  return Object.entries(st.profiles)
    .map(([name, p]): [string, number | null] => [name, openUntil(p, now)])
    .filter((e): e is [string, number] => e[1] !== null)
    .sort((a, b) => a[1] - b[1]);
}

function title(st: StatusReport, now: number): string {
  const open = openWindows(st, now);
  const cls = trayClass(st, now);
  const windows = open.map(([name, end]) => `${name} ${left(end - now)}`).join(", ");
  if (cls === "login-required") return windows ? `S3 login! ${windows}` : "S3 login!";
  return windows ? `S3 ${windows}` : "S3 closed";
}

function ssoLines(st: StatusReport): string[] {
  return Object.entries(st.sso).map(([name, s]) =>
    s.loggedIn ? `sso ${name}: logged in${s.expiresAt ? ` until ${s.expiresAt}` : ""}` : `sso ${name}: ${s.loginPending ? "login in progress" : "login required"}`,
  );
}

function profileLine(name: string, p: Profile, now: number): string {
  const end = openUntil(p, now);
  const state = end !== null ? `open, ${left(end - now)} left (until ${p.window!.end})` : "closed";
  return `${name}: ${state}${p.loginRequired ? ", login required" : ""}`;
}

/** waybar `custom` module with `return-type: json`. */
export function waybar(st: StatusReport, now: number): string {
  const cls = trayClass(st, now);
  // waybar renders both as Pango markup: every line is escaped on its own, then joined.
  const tooltip = [
    ...Object.entries(st.profiles).map(([name, p]) => profileLine(name, p, now) + (openUntil(p, now) !== null && p.window!.reason ? ` — ${p.window!.reason}` : "")),
    ...ssoLines(st),
  ]
    .map(pangoText)
    .join("\n");
  return JSON.stringify({ text: pangoText(title(st, now)), tooltip, class: cls, alt: cls });
}

// Menu text is the user's (reasons, names): it must not end the line, open the attribute part
// (`|`), or carry Pango markup Argos would render (safe-text.ts).
const plain = xbarText;

/** An attribute value: quoted when it holds anything beyond a plain path (the xbar plugin folder has a space). */
const attr = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : `"${xbarText(v).replace(/(["\\])/g, "\\$1")}"`);

function action(label: string, cli: string, args: string[], terminal: boolean): string {
  const params = args.map((a, i) => `param${i + 1}=${attr(a)}`).join(" ");
  return `${plain(label)} | bash=${attr(cli)} ${params} terminal=${terminal} refresh=true`;
}

/**
 * xbar / SwiftBar / Argos menu: the first line is the title, `---` starts the menu, `--` nests a
 * submenu. `cli` is what a click runs (the plugin passes itself, so it can set PATH first).
 * Argos runs `bash=` through bash -c, so there `cli` must be a path without spaces.
 */
export function xbar(st: StatusReport, now: number, cli: string): string {
  const cls = trayClass(st, now);
  const lines = [plain(title(st, now)), "---"];
  for (const [name, p] of Object.entries(st.profiles)) {
    const open = openUntil(p, now) !== null;
    const color = cls === "login-required" && p.loginRequired ? " | color=red" : open && openUntil(p, now)! - now < CLOSING_SOON_MS ? " | color=orange" : "";
    lines.push(plain(profileLine(name, p, now)) + color);
    if (open && p.window!.reason) lines.push(`--reason: ${plain(p.window!.reason)}`);
    if (p.session) lines.push(`--session valid until ${plain(p.session.expiration)}`);
    if (p.lastRefusal) lines.push(`--last refusal: ${plain(p.lastRefusal.code)} at ${plain(p.lastRefusal.at)}`);
    lines.push(action(open ? `Extend ${name} (default window)` : `Grant ${name} (default window)`, cli, ["grant", name], false));
    if (open) lines.push(action(`Revoke ${name}`, cli, ["revoke", name], false));
  }
  lines.push("---", ...ssoLines(st).map(plain));
  for (const [name, s] of Object.entries(st.sso)) {
    // A terminal: the login prints the code the user must confirm in the browser.
    if (!s.loggedIn && !s.loginPending) lines.push(action(`Log in (${name})`, cli, ["login", name], true));
  }
  lines.push("---", `s3jit ${plain(st.daemon.version)}, pid ${st.daemon.pid}, 127.0.0.1:${st.daemon.port}`, "Refresh | refresh=true");
  return lines.join("\n");
}

/** What a tray shows when the daemon does not answer (status.ts prints it instead of failing). */
export function waybarDaemonDown(): string {
  return JSON.stringify({ text: "S3 off", tooltip: "the s3jit daemon is not running: `s3jit service install` starts it at login", class: "stopped", alt: "stopped" });
}

export function xbarDaemonDown(cli: string): string {
  return [
    "S3 off",
    "---",
    "the s3jit daemon is not running",
    action("Start it at every login (s3jit service install)", cli, ["service", "install"], true),
    "Refresh | refresh=true",
  ].join("\n");
}
