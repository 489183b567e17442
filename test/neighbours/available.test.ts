import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { createCredentialsServer, type CredentialsServer } from "../../src/server/credentials.js";
import type { Session } from "../../src/types.js";

/**
 * Issue 15, bullet 2: the endpoint stays available to the token holder while another local user
 * holds or floods sockets. Node's cap is global (1,024) and its header deadline restarts after
 * every answer, so sockets held by a neighbour shut the user's SDK out.
 */

const TOKEN = "t".repeat(43);
const SESSION: Session = {
  profile: "dev",
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "secret",
  sessionToken: "token",
  expiration: Date.UTC(2030, 0, 1),
  accountId: "123456789012",
  roleArn: "arn:aws:sts::123456789012:assumed-role/R/u",
  windowEnd: Date.UTC(2030, 0, 1),
  policyHash: "0".repeat(64),
};

let server: CredentialsServer | undefined;
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function endpoint(connections?: Parameters<typeof createCredentialsServer>[0]["connections"]): Promise<CredentialsServer> {
  server = await createCredentialsServer({
    source: { credentials: async () => SESSION },
    tokens: { verify: (_p, t) => t === TOKEN },
    port: 0,
    // The neighbour's requests below are refusals; the rate limit is another test's subject.
    rateLimit: { limit: 1_000_000 },
    ...(connections ? { connections } : {}),
  });
  return server;
}

/** Opens `n` connections as the neighbour would, resolved once every one is connected. */
async function hold(port: number, n: number, send?: string): Promise<net.Socket[]> {
  const held = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect({ host: "127.0.0.1", port }, () => {
            if (send) s.write(send);
            resolve(s);
          });
          s.on("error", () => {});
          s.resume(); // reads what the endpoint sends, its close included
          sockets.push(s);
        }),
    ),
  );
  return held;
}

/** The user's own request with the token, on a connection of its own (or `agent`'s). */
function fetchAsUser(port: number, agent?: http.Agent): Promise<{ status: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/v1/credentials/dev", headers: { authorization: TOKEN }, ...(agent ? { agent } : { agent: false }) }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, socket: req.socket! }));
    });
    req.on("error", reject);
  });
}

const closed = (s: net.Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once("close", () => r())));

describe("the endpoint stays available while a neighbour holds sockets", () => {
  it("serves the token holder while 1,100 idle sockets are held open", async () => {
    const { port } = await endpoint();
    await hold(port, 1_100);
    const answer = await fetchAsUser(port);
    expect(answer.status).toBe(200);
  });

  it("closes a connection that presents no valid token by its deadline, though refused requests on it keep getting answers", async () => {
    const { port } = await endpoint({ untrustedMs: 100, sweepEveryMs: 20 });
    const refusedRequest = `GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: wrong\r\n\r\n`;
    const [refused] = await hold(port, 1, refusedRequest);
    // Node's header deadline restarts after every answer: a refused request per answer held the socket for ever.
    const again = () => void (refused!.destroyed || refused!.write(refusedRequest));
    refused!.on("data", again);
    const [silent] = await hold(port, 1);
    await closed(refused!);
    await closed(silent!);
    expect(refused!.destroyed && silent!.destroyed).toBe(true);
  });

  it("a connection whose first request was refused may still present the token", async () => {
    const { port } = await endpoint();
    const [s] = await hold(port, 1);
    let text = "";
    const both = new Promise<void>((r) =>
      s!.on("data", (d: Buffer) => {
        text += d.toString();
        if ((text.match(/HTTP\/1\.1 \d+/g) ?? []).length === 2) r();
      }),
    );
    s!.write(`GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: wrong\r\n\r\n`);
    s!.write(`GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${TOKEN}\r\n\r\n`);
    await both;
    expect(text.match(/HTTP\/1\.1 \d+/g)).toEqual(["HTTP/1.1 401", "HTTP/1.1 200"]);
  });

  it("keeps the token holder's kept-alive connection while untrusted ones come and go beyond the cap", async () => {
    const { port } = await endpoint({ maxUntrusted: 8 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await fetchAsUser(port, agent);
      expect(first.status).toBe(200);
      const neighbours = await hold(port, 40);
      // Beyond the cap the oldest untrusted connections were closed, never the trusted one.
      await Promise.all(neighbours.slice(0, 32).map(closed));
      const again = await fetchAsUser(port, agent);
      expect(again.status).toBe(200);
      expect(again.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });
});
