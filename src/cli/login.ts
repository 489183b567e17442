import type { LoginStarted } from "../server/control.js";
import { canOpenBrowser, openBrowser } from "./browser.js";
import { EXIT, paint, timeLeft, type Deps } from "./io.js";

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
export async function run(input: LoginInput, deps: Deps & { tty?: boolean }): Promise<number> {
  const flow = !input.noBrowser && canOpenBrowser(deps.io.env) ? "pkce" : "device";
  const started = await deps.client.post<LoginStarted>("/v1/login", { ...(input.sso ? { sso: input.sso } : {}), force: input.force, flow });
  if (started.alreadyLoggedIn) {
    deps.io.out(`already logged in to ${started.sso} (use --force to log in again)`);
    return EXIT.ok;
  }
  const url = started.url ?? "";
  if (started.flow === "pkce") {
    const opened = await openBrowser(url, deps.io.env);
    deps.io.err(
      [
        opened ? `Opening your browser to sign in to IAM Identity Center (${started.sso}).` : `Sign in to IAM Identity Center (${started.sso}):`,
        `If it does not open, visit:`,
        `  ${paint(deps.io, 1, url)}`,
      ].join("\n"),
    );
  } else {
    deps.io.err(
      [
        `To sign in to IAM Identity Center (${started.sso}), open this page on any device:`,
        `  ${paint(deps.io, 1, url)}`,
        `and check that it shows the code ${paint(deps.io, 1, started.userCode ?? "")}.`,
      ].join("\n"),
    );
  }
  const stop = countdown(deps, started.expiresAt ? Date.parse(started.expiresAt) : undefined);
  try {
    const done = await deps.client.post<{ sso: string; expiresAt: string | null }>("/v1/login/wait", { sso: started.sso });
    stop();
    deps.io.out(`logged in to ${done.sso}${done.expiresAt ? ` until ${done.expiresAt}` : ""}`);
    return EXIT.ok;
  } finally {
    stop();
  }
}

/** A live countdown on a terminal (one line, rewritten); one plain line otherwise. */
function countdown(deps: Deps & { tty?: boolean }, expiresAt: number | undefined): () => void {
  const tty = deps.tty ?? !!process.stderr.isTTY;
  if (!expiresAt) return () => {};
  if (!tty) {
    deps.io.err(`Waiting for approval (expires at ${new Date(expiresAt).toISOString()})…`);
    return () => {};
  }
  const draw = () => process.stderr.write(`\r\x1b[2KWaiting for approval — expires in ${timeLeft(Date.now(), expiresAt)}`);
  draw();
  const t = setInterval(draw, 1000);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(t);
    process.stderr.write("\r\x1b[2K");
  };
}
