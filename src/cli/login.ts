import type { LoginStarted } from "../control/contract.js";
import { canOpenBrowser, openBrowser } from "../platform/browser.js";
import { EXIT, paint, timeLeft, type Deps } from "./io.js";
import { terminalText } from "./safe-text.js";

export interface LoginInput {
  sso?: string;
  noBrowser: boolean;
  force: boolean;
}

/**
 * The daemon runs the login; the CLI shows the user what to do, opens the browser where there is
 * one, and waits. Several terminals running `s3jit login` at once all join the one flow.
 * Authorization code + PKCE where a browser can be opened; the device code otherwise.
 */
export interface LoginDeps extends Deps {
  /** stderr is a terminal (the countdown rewrites one line). */
  tty?: boolean;
  /** Raw stderr writes for the countdown line. */
  write?: (s: string) => void;
  /** Countdown period (tests). */
  tickMs?: number;
  /** Opens the URL; the platform opener (or $BROWSER) by default. */
  open?: (url: string) => Promise<boolean>;
}

export async function run(input: LoginInput, deps: LoginDeps): Promise<number> {
  const flow = !input.noBrowser && canOpenBrowser(deps.io.env) ? "pkce" : "device";
  const started = await deps.client.post<LoginStarted>("/v1/login", { ...(input.sso ? { sso: input.sso } : {}), force: input.force, flow });
  if (started.alreadyLoggedIn) {
    deps.io.out(`already logged in to ${terminalText(started.sso)} (use --force to log in again)`);
    return EXIT.ok;
  }
  const url = started.url ?? "";
  // The issuer's URL and code and the config's SSO name are shown, not obeyed (safe-text.ts);
  // the opener gets the URL as sent.
  const sso = terminalText(started.sso);
  const shownUrl = terminalText(url);
  if (started.flow === "pkce") {
    const opened = await (deps.open ?? ((u: string) => openBrowser(u, deps.io.env)))(url);
    deps.io.err(
      [
        opened ? `Opening your browser to sign in to IAM Identity Center (${sso}).` : `Sign in to IAM Identity Center (${sso}):`,
        `If it does not open, visit:`,
        `  ${paint(deps.io, 1, shownUrl)}`,
      ].join("\n"),
    );
  } else {
    deps.io.err(
      [
        `To sign in to IAM Identity Center (${sso}), open this page on any device:`,
        `  ${paint(deps.io, 1, shownUrl)}`,
        `and check that it shows the code ${paint(deps.io, 1, terminalText(started.userCode ?? ""))}.`,
      ].join("\n"),
    );
  }
  const what = started.flow === "pkce" ? "Waiting for the sign-in in your browser" : "Waiting for approval";
  const stop = countdown(deps, started.expiresAt ? Date.parse(started.expiresAt) : undefined, what);
  try {
    const done = await deps.client.post<{ sso: string; expiresAt: string | null }>("/v1/login/wait", { sso: started.sso });
    stop();
    deps.io.out(`logged in to ${terminalText(done.sso)}${done.expiresAt ? ` until ${terminalText(done.expiresAt)}` : ""}`);
    return EXIT.ok;
  } finally {
    stop();
  }
}

/**
 * A live countdown until the code (or the browser wait) expires: on a terminal one line rewritten
 * in place every second; otherwise (a log, a pipe) a plain line now and one a minute.
 */
function countdown(deps: Deps & { tty?: boolean; write?: (s: string) => void; tickMs?: number }, expiresAt: number | undefined, what: string): () => void {
  if (!expiresAt) return () => {};
  const tty = deps.tty ?? !!process.stderr.isTTY;
  const write = deps.write ?? ((t: string) => void process.stderr.write(t));
  let t: NodeJS.Timeout;
  if (tty) {
    const draw = () => write(`\r\x1b[2K${what} — expires in ${timeLeft(Date.now(), expiresAt)}`);
    draw();
    t = setInterval(draw, deps.tickMs ?? 1000);
  } else {
    deps.io.err(`${what} (expires at ${new Date(expiresAt).toISOString()})…`);
    t = setInterval(() => {
      if (Date.now() < expiresAt) deps.io.err(`${what}: ${timeLeft(Date.now(), expiresAt)} left`);
    }, deps.tickMs ?? 60_000);
  }
  t.unref();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(t);
    if (tty) write("\r\x1b[2K");
  };
}
