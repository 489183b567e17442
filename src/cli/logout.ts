import { EXIT, type Deps } from "./io.js";

export async function run(_input: Record<string, never>, deps: Deps): Promise<number> {
  await deps.client.post("/v1/logout", {});
  deps.io.out("logged out: SSO tokens and cached sessions are gone, endpoint tokens were rotated");
  return EXIT.ok;
}
