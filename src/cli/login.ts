import type { LoginStarted } from "../server/control.js";
import { EXIT, paint, type Deps } from "./io.js";

export interface LoginInput {
  sso?: string;
  noBrowser: boolean;
  force: boolean;
}

/**
 * The daemon runs the login; the CLI only shows the user what to do and waits. If several
 * terminals run `s3jit login` at once, they all show the same code: one flow runs.
 */
export async function run(input: LoginInput, deps: Deps): Promise<number> {
  const started = await deps.client.post<LoginStarted>("/v1/login", { ...(input.sso ? { sso: input.sso } : {}), force: input.force });
  if (started.alreadyLoggedIn) {
    deps.io.out(`already logged in to ${started.sso} (use --force to log in again)`);
    return EXIT.ok;
  }
  deps.io.err(
    [
      `To sign in to IAM Identity Center (${started.sso}), open:`,
      `  ${paint(deps.io, 1, started.verificationUriComplete ?? started.verificationUri ?? "")}`,
      `and check that it shows the code ${paint(deps.io, 1, started.userCode ?? "")}.`,
      `Waiting for approval (the code expires at ${started.expiresAt})…`,
    ].join("\n"),
  );
  const done = await deps.client.post<{ sso: string; expiresAt: string | null }>("/v1/login/wait", { sso: started.sso });
  deps.io.out(`logged in to ${done.sso}${done.expiresAt ? ` until ${done.expiresAt}` : ""}`);
  return EXIT.ok;
}
