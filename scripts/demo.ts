/**
 * `npm run demo`: s3jit's main job end to end on the local AWS sandbox, no AWS account needed.
 * The demo runs in its own world: a temporary folder is its HOME and its XDG folders, and nothing
 * of yours (S3JIT_*, AWS_*, XDG_*, ~/.aws, your keychain) is read or touched by the daemon, the CLI
 * or the SDKs it starts. With --once (or without a terminal) it exits after the transcript.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { startSandbox } from "../test/sandbox/server.js";
import { AUDIT, configToml, profileToml } from "../test/helpers/config.js";
import { cleanEnv, userWorld } from "../test/helpers/stack.js";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "bin", "s3jit.js");
const once = process.argv.includes("--once") || !process.stdin.isTTY;
const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);
const step = (n: number, s: string) => console.log(`\n${bold(`── ${n}. ${s}`)}`);
const show = (s: string) => console.log(s.trimEnd().replace(/^/gm, "   "));

const dir = mkdtempSync(path.join(tmpdir(), "s3jit-demo-"));
const sandbox = await startSandbox({ autoApprove: true });
// Your environment minus AWS_*, XDG_* and S3JIT_* (cleanEnv), with HOME and the XDG folders in `dir`.
const demoConfig = `# The demo's config: one IAM Identity Center instance and one read-only profile.\n${configToml({ profiles: profileToml("audit", AUDIT) })}`;
const { env, configFile, socket } = userWorld(dir, sandbox.url, demoConfig, cleanEnv());

let daemon: ChildProcess | undefined;
async function cleanup(code: number): Promise<never> {
  daemon?.kill("SIGTERM");
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

async function s3jit(args: string[], quiet = false): Promise<string> {
  if (!quiet) console.log(`   $ s3jit ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    if (!quiet) show(stderr + stdout);
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    show(`${e.stderr ?? ""}${e.stdout ?? ""}(exit ${e.code})`);
    throw err;
  }
}

try {
  console.log(bold("s3jit demo: just-in-time, read-only S3 credentials from IAM Identity Center"));
  console.log(`   local AWS sandbox (STS, SSO-OIDC, SSO portal) on ${sandbox.url}; files in ${dir}`);

  step(1, "Start the daemon (what launchd/systemd would do)");
  console.log(`   $ s3jit daemon   (config: ${configFile})`);
  daemon = spawn(process.execPath, [CLI, "daemon"], { env, stdio: ["ignore", "inherit", "inherit"] });
  for (let i = 0; !existsSync(socket); i++) {
    if (i > 200 || daemon.exitCode !== null) throw new Error("the daemon did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  await s3jit(["status"]);

  step(2, "Log in with IAM Identity Center (the sandbox approves the code as a user would in the browser)");
  await s3jit(["login", "--no-browser"]);

  step(3, "Open a 30-minute access window for the profile");
  await s3jit(["grant", "audit", "--for", "30m", "--reason", "demo: read last month's audit logs"]);

  step(4, "Point any AWS SDK at the daemon");
  await s3jit(["env", "audit"]);
  const vars = JSON.parse(await s3jit(["env", "audit", "--json"], true)) as { set: Record<string, string>; unset: string[] };

  step(5, "A real AWS SDK for JavaScript v3 program, configured only by those variables");
  const childEnv: NodeJS.ProcessEnv = { ...env, ...vars.set, AWS_ENDPOINT_URL_S3: sandbox.url };
  for (const k of vars.unset) delete childEnv[k];
  const { stdout } = await run(process.execPath, [path.join(ROOT, "test/fixtures/js-sdk-identity.mjs")], { env: childEnv, cwd: ROOT });
  const got = JSON.parse(stdout) as { accessKeyId: string; expiration: string; arn: string };
  show(`credentials: ${got.accessKeyId} (expires ${got.expiration}, never after the window)\nSTS says the caller is: ${got.arn}`);
  const mint = sandbox.requests.filter((r) => r.action === "GetScopedCredentials").at(-1);
  show(`the session policy s3jit sent to STS (DurationSeconds=${String(mint?.params.DurationSeconds)}):\n${JSON.stringify(JSON.parse(String(mint?.params.Policy)), null, 2)}`);

  step(6, "S3 through the sandbox (it checks signatures and evaluates the session policy as AWS would)");
  const s3 = async (label: string, args: string[]) => {
    const r = await run(process.execPath, [path.join(ROOT, "test/clients/fixtures/js-s3.mjs"), ...args], { env: childEnv, cwd: ROOT }).then(
      (o) => o.stdout,
      (e: { stdout?: string }) => e.stdout ?? "",
    );
    const out = JSON.parse(r || "{}") as { ok?: boolean; body?: string; keys?: string[]; name?: string; message?: string };
    show(`${label}\n  → ${out.ok ? (out.body !== undefined ? `ok: ${out.body.trim().slice(0, 80)}` : out.keys ? `ok: ${out.keys.join(", ")}` : "ok") : `refused: ${out.name}: ${out.message}`}`);
  };
  await s3("JS SDK: GetObject s3://audit-logs/2026/01/report.json (in scope)", ["get", "audit-logs", "2026/01/report.json"]);
  await s3("JS SDK: ListObjectsV2 s3://audit-logs/2026/", ["list", "audit-logs", "2026/"]);
  await s3("JS SDK: PutObject s3://audit-logs/2026/01/new.json (a write)", ["put", "audit-logs", "2026/01/new.json", "x"]);
  await s3("JS SDK: GetObject s3://other-bucket/secret.txt (out of scope)", ["get", "other-bucket", "secret.txt"]);
  if (existsSync("/usr/bin/aws")) {
    const cli = await run("/usr/bin/aws", ["s3", "cp", "s3://audit-logs/2026/01/report.json", "-", "--endpoint-url", sandbox.url], { env: childEnv }).then(
      (o) => `ok: ${o.stdout.trim().slice(0, 80)}`,
      (e: { stderr?: string }) => `failed: ${(e.stderr ?? "").trim()}`,
    );
    show(`AWS CLI v2: aws s3 cp s3://audit-logs/2026/01/report.json -\n  → ${cli}`);
  } else {
    show("(AWS CLI v2 not installed at /usr/bin/aws: skipped)");
  }

  step(7, "Status");
  await s3jit(["status"]);

  step(8, "Revoke: the window closes and the next request is refused");
  await s3jit(["revoke", "audit"]);
  const refused = await fetch(vars.set.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: vars.set.AWS_CONTAINER_AUTHORIZATION_TOKEN! } });
  show(`GET ${vars.set.AWS_CONTAINER_CREDENTIALS_FULL_URI} → ${refused.status} ${await refused.text()}`);
  await s3("JS SDK after revoke: GetObject s3://audit-logs/2026/01/report.json", ["get", "audit-logs", "2026/01/report.json"]);
  show("(the JS SDK hides the endpoint's reason; `s3jit status` shows it as the last refusal:)");
  await s3jit(["status"]);

  if (once) {
    console.log(`\n${bold("demo complete")}`);
    await cleanup(0);
  }
  await s3jit(["grant", "audit", "--for", "30m", "--reason", "demo: try your own tools"], true);
  console.log(`\n${bold("The daemon keeps running with a fresh 30-minute window. In another terminal:")}`);
  show(`export S3JIT_DEMO=1\n` + Object.entries(vars.set).map(([k, v]) => `export ${k}='${v}'`).join("\n") + `\nexport AWS_ENDPOINT_URL_STS=${sandbox.url} AWS_ENDPOINT_URL_S3=${sandbox.url}\nunset ${vars.unset.join(" ")}`);
  console.log("   Press Ctrl-C to stop and clean up.");
  process.on("SIGINT", () => void cleanup(0));
  process.on("SIGTERM", () => void cleanup(0));
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  await cleanup(1);
}
