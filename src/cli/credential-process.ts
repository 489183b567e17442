import { S3jitError } from "../errors.js";
import { EXIT, type Deps } from "./io.js";

/**
 * How long a run waits for a mint under way. A container endpoint answers such a request 503 and
 * the SDK asks again; credential_process has no such answer: botocore, the AWS CLI and the Java
 * SDK take a failed run as "no credentials". The first mint of a window (or the first after the
 * daemon's AWS helper went idle) can take longer than the daemon lets one request wait.
 */
export const MINT_WAIT_MS = 30_000;
const ASK_AGAIN_MS = 200;

export interface CredentialProcessDeps extends Deps {
  /** Tests: the wait between asks and the clock the wait is measured on. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

type Served = { AccessKeyId: string; SecretAccessKey: string; Token: string; Expiration: string };

/**
 * credential_process output (Version 1), fetched from the daemon: the daemon decides and mints;
 * this command never does. A mint still under way is waited for; any other refusal is final.
 */
export async function run(input: { profile: string }, deps: CredentialProcessDeps): Promise<number> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const giveUpAt = now() + MINT_WAIT_MS;
  let c: Served;
  for (;;) {
    try {
      c = await deps.client.get<Served>(`/v1/credentials/${encodeURIComponent(input.profile)}`);
      break;
    } catch (err) {
      if (!(err instanceof S3jitError && err.code === "MintPending") || now() >= giveUpAt) throw err;
      await sleep(ASK_AGAIN_MS);
    }
  }
  deps.io.out(JSON.stringify({ Version: 1, AccessKeyId: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.Token, Expiration: c.Expiration }));
  return EXIT.ok;
}
