import { EXIT, type Deps } from "./io.js";

export async function run(input: { profile: string }, deps: Deps): Promise<number> {
  await deps.client.post("/v1/revoke", { profile: input.profile });
  deps.io.out(`window closed for ${input.profile}; its cached sessions are gone`);
  return EXIT.ok;
}
