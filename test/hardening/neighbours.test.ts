import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { chmodSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startStack, type Stack } from "../helpers/stack.js";
import { loginAndGrant } from "./raw.js";

const run = promisify(execFile);

/**
 * Hostile neighbours: another local user on the same machine. The daemon's files and its control
 * socket (which hands out credentials to whoever connects) must be owner-only, and a client running
 * as `nobody` must get nowhere — tested for real with setpriv when the suite runs as root.
 */

const mode = (p: string) => statSync(p).mode & 0o777;
const isRoot = process.getuid?.() === 0;

/** Runs `code` in a Node process as uid/gid 65534 (nobody); its stdout is one JSON line. */
async function asNobody(code: string): Promise<Record<string, string>> {
  const r = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", code], { timeout: 20_000 });
  return JSON.parse(r.stdout.trim()) as Record<string, string>;
}

describe("neighbours: file modes and another user", () => {
  let stack: Stack;
  let files: { tokens: string; tokenFile: string; runtime: string; socket: string; audit: string; state: string };

  beforeAll(async () => {
    stack = await startStack();
    await loginAndGrant(stack, "audit");
    const data = path.join(stack.env.XDG_DATA_HOME!, "s3jit");
    const runtime = path.join(stack.env.XDG_RUNTIME_DIR!, "s3jit");
    files = {
      tokens: path.join(data, "tokens"),
      tokenFile: path.join(data, "tokens", "audit"),
      runtime,
      socket: path.join(runtime, "control.sock"),
      audit: path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"),
      state: path.join(data, "state.json"),
    };
    // The test's own temporary folders are 0700; open them for traversal so that only s3jit's own
    // modes stand between `nobody` and its files (as under a shared /home or /run/user).
    for (const d of [stack.dir, stack.env.XDG_DATA_HOME!, stack.env.XDG_RUNTIME_DIR!, stack.env.XDG_STATE_HOME!, data]) chmodSync(d, 0o711);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("keeps token files 0600 in a 0700 folder, the socket 0600 in a 0700 folder, the audit log and state file 0600", () => {
    expect(mode(files.tokens)).toBe(0o700);
    const tokenFiles = readdirSync(files.tokens);
    expect(tokenFiles).toContain("audit");
    for (const f of tokenFiles) expect(mode(path.join(files.tokens, f)), f).toBe(0o600);
    expect(mode(files.runtime)).toBe(0o700);
    expect(statSync(files.socket).isSocket()).toBe(true);
    expect(mode(files.socket)).toBe(0o600);
    expect(mode(files.audit)).toBe(0o600);
    expect(mode(path.dirname(files.audit))).toBe(0o700);
    expect(mode(files.state)).toBe(0o600);
  });

  const probe = (socket: string, tokenFile: string) => `
    const net = require("node:net"), fs = require("node:fs");
    const out = { uid: String(process.getuid()) };
    // Control: can nobody reach the folder at all? Otherwise EACCES would prove nothing about s3jit.
    try { fs.readdirSync(require("node:path").dirname(${JSON.stringify(socket)})); out.dir = "ok"; } catch (e) { out.dir = e.code; }
    try { fs.readFileSync(${JSON.stringify(tokenFile)}); out.read = "ok"; } catch (e) { out.read = e.code; }
    const s = net.connect(${JSON.stringify(socket)});
    s.on("connect", () => { out.connect = "ok"; s.end("GET /v1/status HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"); });
    s.on("data", (d) => { out.answer = (out.answer ?? "") + d.toString().slice(0, 20); });
    s.on("error", (e) => { out.connect = e.code; });
    s.on("close", () => console.log(JSON.stringify(out)));`;

  it.runIf(isRoot)("refuses a client running as nobody: no connection to the control socket, no token file read (as root only: the client runs as nobody)", async () => {
    const out = await asNobody(probe(files.socket, files.tokenFile));
    expect(out.uid).toBe("65534");
    expect(out.dir).toBe("EACCES");
    expect(out.read).toBe("EACCES");
    expect(out.connect).toBe("EACCES");
    expect(out.answer).toBeUndefined();
  });

  it.runIf(isRoot)("still refuses nobody when the socket's folder is opened by mistake: the socket's own 0600 holds (as root only: the client runs as nobody)", async () => {
    chmodSync(files.runtime, 0o755);
    chmodSync(files.tokens, 0o755);
    try {
      const out = await asNobody(probe(files.socket, files.tokenFile));
      expect(out.dir).toBe("ok");
      expect(out.read).toBe("EACCES");
      expect(out.connect).toBe("EACCES");
    } finally {
      chmodSync(files.runtime, 0o700);
      chmodSync(files.tokens, 0o700);
    }
  });

  /** Opens `file` to others: the start is refused, naming the file and the chmod; that chmod then lets it start. */
  async function refusedThenFixed(file: string, what: string): Promise<void> {
    expect(await stack.stopDaemon("SIGTERM")).toBe(0);
    chmodSync(file, 0o644);
    const err = await stack.startDaemon().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, `the daemon started with a 0644 ${what}`).toBeInstanceOf(Error);
    expect(err!.message).toContain(file);
    expect(err!.message).toContain(`chmod 600 ${file}`);
    expect(stack.daemon?.exitCode).not.toBe(0);
    chmodSync(file, 0o600);
    await stack.startDaemon();
  }

  it("refuses to start when a token file is readable by others, naming the file and the chmod that fixes it", async () => {
    await refusedThenFixed(files.tokenFile, "token file");
    expect((await stack.cli(["status", "--json"])).code).toBe(0);
  });

  it("refuses to start when the state file is readable by others, naming the file and the chmod that fixes it", async () => {
    await refusedThenFixed(files.state, "state file");
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as { profiles: { audit: { window: unknown } } };
    expect(st.profiles.audit.window).not.toBeNull();
  });
});
