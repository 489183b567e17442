import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensurePrivateDir } from "../../src/platform/files.js";
import { controlClient } from "../../src/control/client.js";
import { S3jitError } from "../../src/errors.js";

/**
 * Issue 15, bullet 3: a runtime folder a neighbour created first (XDG_RUNTIME_DIR may be a shared
 * /tmp). The daemon refuses it, naming the fix; the CLI talks only to a socket that is the user's
 * own, in a folder that is the user's own — never to a neighbour's fake daemon.
 */

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const dirs: string[] = [];
const servers: http.Server[] = [];

function scratch(): string {
  const d = mkdtempSync(path.join(tmpdir(), "s3jit-neighbour-"));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A neighbour's fake daemon: answers every request with its own URL and token. */
async function fakeDaemon(socket: string): Promise<{ requests: number }> {
  const seen = { requests: 0 };
  const server = http.createServer((_req, res) => {
    seen.requests++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ url: "http://127.0.0.1:9/v1/credentials/audit", token: "neighbours-token" }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socket, r));
  return seen;
}

function refusal(err: unknown): S3jitError {
  expect(err).toBeInstanceOf(S3jitError);
  return err as S3jitError;
}

describe("the daemon's folders", () => {
  it("creates a missing folder 0700 and tightens its own open one", () => {
    const dir = path.join(scratch(), "s3jit");
    ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o755);
    ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("refuses a link put where its folder should be, naming the fix", () => {
    const base = scratch();
    const elsewhere = path.join(base, "neighbours");
    mkdirSync(elsewhere);
    chmodSync(elsewhere, 0o777);
    symlinkSync(elsewhere, path.join(base, "s3jit"));
    const err = refusal(captured(() => ensurePrivateDir(path.join(base, "s3jit"))));
    expect(err.code).toBe("InsecureFolder");
    expect(err.message).toContain(`sudo rm -r ${path.join(base, "s3jit")}`);
    expect(statSync(elsewhere).mode & 0o777).toBe(0o777); // not "tightened" through the link
  });

  it.runIf(isRoot)("refuses a folder another user created first, naming the owner and the fix (as root only: the folder is chowned to nobody)", () => {
    const base = scratch();
    chmodSync(base, 0o1777); // a shared /tmp
    const dir = path.join(base, "s3jit");
    mkdirSync(dir, { mode: 0o777 });
    chownSync(dir, NOBODY, NOBODY);
    const err = refusal(captured(() => ensurePrivateDir(dir)));
    expect(err.code).toBe("InsecureFolder");
    expect(err.message).toContain(`belongs to uid ${NOBODY}`);
    expect(err.message).toContain(`sudo rm -r ${dir}`);
    expect(statSync(dir).uid).toBe(NOBODY);
  });
});

describe("the CLI's side of the control socket", () => {
  it("refuses a socket whose folder is open to others, and never sends it a request", async () => {
    const dir = path.join(scratch(), "s3jit");
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o777);
    const socket = path.join(dir, "control.sock");
    const fake = await fakeDaemon(socket);
    const err = refusal(await controlClient(socket).get("/v1/env/audit").catch((e: unknown) => e));
    expect(err.code).toBe("InsecureSocket");
    expect(err.message).toContain(`sudo rm -r ${dir}`);
    expect(fake.requests).toBe(0);
  });

  it.runIf(isRoot)("refuses a neighbour's socket in a neighbour's folder, and never sends it a request (as root only: the socket is chowned to nobody)", async () => {
    const dir = path.join(scratch(), "s3jit");
    mkdirSync(dir, { mode: 0o700 });
    const socket = path.join(dir, "control.sock");
    const fake = await fakeDaemon(socket);
    chownSync(socket, NOBODY, NOBODY);
    const socketOnly = refusal(await controlClient(socket).get("/v1/env/audit").catch((e: unknown) => e));
    expect(socketOnly.message).toContain(`belongs to uid ${NOBODY}`);
    chownSync(dir, NOBODY, NOBODY);
    const both = refusal(await controlClient(socket).post("/v1/login").catch((e: unknown) => e));
    expect(both.code).toBe("InsecureSocket");
    expect(fake.requests).toBe(0);
  });

  it("still talks to the user's own daemon, and a missing socket still means no daemon", async () => {
    const dir = path.join(scratch(), "s3jit");
    ensurePrivateDir(dir);
    const socket = path.join(dir, "control.sock");
    await expect(controlClient(socket).get("/v1/status")).rejects.toMatchObject({ code: "DaemonNotRunning" });
    const fake = await fakeDaemon(socket);
    await expect(controlClient(socket).get("/v1/status")).resolves.toMatchObject({ token: "neighbours-token" });
    expect(fake.requests).toBe(1);
  });
});

function captured(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
