import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { run as login } from "../../src/cli/login.js";
import { controlClient } from "../../src/control/client.js";

/**
 * What `s3jit login` prints comes from the sign-in server by way of the daemon: the verification
 * URL and the user code are the issuer's words, the SSO name the config's. A hostile or broken
 * issuer (or a pasted config) may put ESC sequences or a CR in them; the terminal must show them,
 * not obey them. A stand-in daemon on the control socket answers as the real one relays them.
 */
describe("s3jit login shows the issuer's text, it does not obey it", () => {
  const HOSTILE = "\x1b]0;owned\x07\x1b[2J\rs3jit: logged in";
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise((r) => server?.close(r) ?? r(undefined));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function standInDaemon(started: Record<string, unknown>, done: Record<string, unknown>): Promise<string> {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-login-text-"));
    const socket = path.join(dir, "control.sock");
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(req.url === "/v1/login" ? started : done));
      });
    });
    await new Promise<void>((r) => server!.listen(socket, r));
    return socket;
  }

  // Anything a terminal acts on but the newline that ends each line.
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

  it.each([["device" as const], ["pkce" as const]])("%s flow: URL, code and SSO name reach stderr escaped; the opener gets the URL as sent", async (flow) => {
    const url = `http://127.0.0.1:1/device?user_code=${HOSTILE}`;
    const socket = await standInDaemon(
      { sso: `corp${HOSTILE}`, alreadyLoggedIn: false, flow, url, userCode: `ABCD${HOSTILE}`, expiresAt: new Date(Date.now() + 600_000).toISOString() },
      { sso: `corp${HOSTILE}`, expiresAt: null },
    );
    const out: string[] = [];
    const err: string[] = [];
    const opened: string[] = [];
    const code = await login(
      { noBrowser: flow === "device", force: false },
      {
        io: { out: (t) => out.push(t), err: (t) => err.push(t), color: false, env: flow === "pkce" ? { DISPLAY: ":0" } : {} },
        client: controlClient(socket),
        tty: false,
        write: (t) => err.push(t),
        open: async (u) => (opened.push(u), true),
      },
    );
    expect(code).toBe(0);
    const all = [...out, ...err].join("\n");
    expect(all).not.toMatch(CONTROL);
    expect(all).toContain("\\x1b]0;owned\\x07\\x1b[2J\\x0ds3jit: logged in");
    expect(out.join("\n")).toContain("logged in to corp\\x1b]0;owned");
    if (flow === "pkce") expect(opened).toEqual([url]);
    else expect(err.join("\n")).toContain("the code ABCD\\x1b]0;owned");
  });

  it("already logged in: the SSO name is escaped too", async () => {
    const socket = await standInDaemon({ sso: `corp${HOSTILE}`, alreadyLoggedIn: true }, {});
    const out: string[] = [];
    const code = await login({ noBrowser: true, force: false }, { io: { out: (t) => out.push(t), err: () => {}, color: false, env: {} }, client: controlClient(socket) });
    expect(code).toBe(0);
    expect(out.join("\n")).not.toMatch(CONTROL);
    expect(out.join("\n")).toContain("already logged in to corp\\x1b]0;owned");
  });
});
