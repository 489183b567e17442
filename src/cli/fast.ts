import { resolvePaths } from "../paths.js";
import { controlClient } from "../control/client.js";
import { run as credentialProcess } from "./credential-process.js";
import { run as env } from "./env.js";
import { run as status } from "./status.js";
import { processIo } from "./io.js";
import { failed } from "./failure.js";

/** The forms handled here; anything else (another option, `--help`, a missing profile) is main.ts's. */
function parse(argv: string[]): { command: "credential-process" | "env"; profile: string } | { command: "status"; json: boolean; format?: string } | undefined {
  const [command, ...rest] = argv;
  if (command === "credential-process" || command === "env") {
    const [profile, ...more] = rest;
    return profile !== undefined && !profile.startsWith("-") && more.length === 0 ? { command, profile } : undefined;
  }
  if (command !== "status") return undefined;
  if (rest.length === 0) return { command, json: false };
  if (rest.length === 1 && rest[0] === "--json") return { command, json: true };
  if (rest.length === 2 && rest[0] === "--format" && ["text", "waybar", "xbar"].includes(rest[1]!)) return { command, json: false, format: rest[1] };
  return undefined;
}

/**
 * The commands that run most often, without the rest of the CLI: `credential-process PROFILE`
 * (once per credential fetch of a credential_process tool), `env PROFILE` (in shell start-up) and
 * `status` (a tray polls it). `bin/s3jit.js` loads this one file (a CommonJS bundle: no ES module
 * graph to resolve and link, builtins without their ES module facades) for these commands, and
 * any form not handled here goes to the full CLI (undefined), which answers it the same. What they
 * print and their exit codes are main.ts's.
 */
export async function run(argv: string[]): Promise<number | undefined> {
  const cmd = parse(argv);
  if (cmd === undefined) return undefined;
  const io = processIo();
  const deps = { io, client: controlClient(resolvePaths().socket) };
  try {
    if (cmd.command === "status") return await status({ json: cmd.json, format: cmd.format }, deps);
    if (cmd.command === "credential-process") return await credentialProcess({ profile: cmd.profile }, deps);
    return await env({ profile: cmd.profile, shell: "sh", json: false, tokenFile: false, awsConfig: false, cli: process.argv[1] }, deps);
  } catch (err) {
    return failed(io, err);
  }
}
