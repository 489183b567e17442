/**
 * Runs the sandbox as a process for the demo and the benchmark:
 *   npx tsx test/sandbox/main.ts [--port N] [--auto-approve] [--access-token-ttl S] [--role-credentials-ttl S]
 * Prints one JSON line {"url", "port"} on stdout once listening, then serves until SIGTERM/SIGINT.
 * Controls for other processes live under /sandbox/ (approve, deny, inject, clock, requests).
 */
import { parseArgs } from "node:util";
import { startSandbox, type SandboxOptions } from "./server.js";

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} wants a positive number of seconds`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "auto-approve": { type: "boolean", default: false },
      "access-token-ttl": { type: "string" },
      "role-credentials-ttl": { type: "string" },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port wants 0..65535");
  const opts: SandboxOptions = { port, autoApprove: values["auto-approve"] };
  const accessTtl = seconds(values["access-token-ttl"], "--access-token-ttl");
  const roleTtl = seconds(values["role-credentials-ttl"], "--role-credentials-ttl");
  if (accessTtl !== undefined) opts.accessTokenTtlSeconds = accessTtl;
  if (roleTtl !== undefined) opts.roleCredentialsTtlSeconds = roleTtl;

  const sandbox = await startSandbox(opts);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Only now: whoever reads this line may stop the sandbox at once, and must find it listening.
  process.stdout.write(`${JSON.stringify({ url: sandbox.url, port: sandbox.port })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox: ${(err as Error).message}\n`);
  process.exit(2);
});
