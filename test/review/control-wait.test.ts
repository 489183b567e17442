import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { controlClient } from "../../src/control/client.js";

/**
 * The CLI waits as long as the daemon takes to answer: `s3jit login` waits on /v1/login/wait
 * until the user has approved in the browser, and a grant or credential-process may wait on a
 * slow STS. Node 19+ gives every request of the global agent a 5 s socket idle limit, which the
 * client took for the daemon not answering. A stand-in daemon on an owner-only socket (the
 * boundary the CLI talks over) holds its answer past that limit.
 */
describe("the control client waits for the daemon's answer", () => {
  let dir: string;
  let socket: string;
  let server: http.Server;
  let held: http.ServerResponse[];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-wait-"));
    socket = path.join(dir, "control.sock");
    held = [];
    server = http.createServer((req, res) => void held.push(res));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("an answer held past the global agent's socket idle limit still arrives", async () => {
    // Node keeps the agent's options (5000 ms since Node 19) on the agent; its types leave them out.
    const idleLimit = (http.globalAgent as http.Agent & { options: { timeout?: number } }).options.timeout ?? 5000;
    const answer = controlClient(socket).post<{ sso: string }>("/v1/login/wait", { sso: "corp" });
    answer.catch(() => {}); // looked at below, once the daemon has answered
    // A second past the limit with the request unanswered (the user still at the browser).
    await new Promise((resolve) => setTimeout(resolve, idleLimit + 1000));
    held[0]!.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sso: "corp" }));
    await expect(answer).resolves.toEqual({ sso: "corp" });
  });

  it("a timeout the caller asks for still holds (the daemon's start-up check asks for 2 s)", async () => {
    await expect(controlClient(socket, 200).get("/v1/status")).rejects.toMatchObject({ code: "Timeout" });
  });
});
