import { EXIT, type Deps } from "./io.js";

/**
 * credential_process output (Version 1), fetched from the daemon: the daemon decides and mints;
 * this command never does.
 */
export async function run(input: { profile: string }, deps: Deps): Promise<number> {
  const c = await deps.client.get<{ AccessKeyId: string; SecretAccessKey: string; Token: string; Expiration: string }>(
    `/v1/credentials/${encodeURIComponent(input.profile)}`,
  );
  deps.io.out(JSON.stringify({ Version: 1, AccessKeyId: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.Token, Expiration: c.Expiration }));
  return EXIT.ok;
}
