import path from "node:path";
import { ROOT, runProcess, startStack, type CliResult, type Stack, type StackOptions } from "../helpers/stack.js";
import { socketOf, subscribe } from "../lifecycle/control.js";

/** Shared by the real-client tests: a stack with the user logged in and a window open for `audit`. */

export const FIXTURES = path.join(ROOT, "test", "clients", "fixtures");

/** The objects every client reads, writes and deletes (seeded by the sandbox S3). */
export const IN_SCOPE = { bucket: "audit-logs", key: "2026/01/report.json" } as const;
export const OUT_OF_SCOPE = [
  { bucket: "other-bucket", key: "secret.txt" },
  { bucket: "audit-logs", key: "2025/12/old.json" },
] as const;

export type Proc = CliResult;

export { runProcess };

/** The one JSON line a fixture prints. */
export function fixtureResult(p: Proc): Record<string, unknown> & { ok: boolean } {
  const line = p.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Record<string, unknown> & { ok: boolean };
  } catch {
    throw new Error(`fixture printed no JSON (exit ${p.code}): ${p.stdout}\n${p.stderr}`);
  }
}

/**
 * The clients from Debian's packages, by full path: not a v1 `aws` or another python3 that may
 * come first on PATH. Their suites require "aws-cli-v2" / "boto3" (test/helpers/requires.ts).
 */
export const AWS_CLI = "/usr/bin/aws";
export const PYTHON = "/usr/bin/python3";

export interface ClientStack {
  stack: Stack;
  /** The user's lived-in shell with `s3jit env audit` applied, plus the sandbox as the S3 endpoint. */
  clientEnv(): Promise<NodeJS.ProcessEnv>;
  /** The key id the daemon serves `audit` right now. */
  servedAccessKeyId(): Promise<string>;
  close(): Promise<void>;
}

export async function startClientStack(opts: StackOptions = {}): Promise<ClientStack> {
  const stack = await startStack(opts);
  // Grant mints at once; the tray's event says when, so no test depends on a client's retry of a 503.
  const tray = subscribe(socketOf(stack.env));
  try {
    await tray.ready;
    const login = await stack.cli(["login", "--no-browser"]);
    if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
    const grant = await stack.cli(["grant", "audit", "--for", "30m", "--reason", "client compatibility tests"]);
    if (grant.code !== 0) throw new Error(`grant failed: ${grant.stderr}`);
    await tray.next("the session minted for audit", (e) => e.type === "minted" && e.profile === "audit");
  } catch (err) {
    await stack.close();
    throw err;
  } finally {
    tray.close();
  }
  return {
    stack,
    clientEnv: async () => ({ ...(await stack.clientEnv("audit")), AWS_ENDPOINT_URL_S3: stack.sandbox.url }),
    async servedAccessKeyId() {
      const env = await stack.clientEnv("audit");
      const res = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
      return ((await res.json()) as { AccessKeyId: string }).AccessKeyId;
    },
    close: () => stack.close(),
  };
}

/** The seeded content of an object, to compare what a client read against. */
export function seeded(stack: Stack, bucket: string, key: string): string {
  const object = stack.sandbox.s3.get(bucket, key);
  if (!object) throw new Error(`sandbox has no ${bucket}/${key}`);
  return object.body.toString("utf8");
}

/** The access key that signed the sandbox S3's latest request: proof the read went out with what the daemon served. */
export function lastS3Signer(stack: Stack): string | undefined {
  return stack.sandbox.requests.filter((r) => r.service === "s3").at(-1)?.accessKeyId;
}
