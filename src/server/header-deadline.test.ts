import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import http from "node:http";
import net from "node:net";
import { once } from "node:events";
import { enforceHeaderDeadline, type HeaderDeadline } from "./header-deadline.js";

// The sweep's clock and interval are faked (sockets stay real), so each deadline is checked at
// its exact instant: open one millisecond before it, closed at it — however slow the machine.
describe("enforceHeaderDeadline", () => {
  let server: http.Server;
  let port: number;
  let deadline: HeaderDeadline;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    // As the endpoint's handler does: a request is reported when it comes, its answer once written.
    server = http.createServer((req, res) => {
      deadline.answering(req.socket);
      res.end("ok");
      deadline.answered(req.socket);
    });
    server.keepAliveTimeout = 60_000;
    deadline = enforceHeaderDeadline(server, 300, 50);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as net.AddressInfo).port;
  });

  afterEach(async () => {
    vi.useRealTimers();
    server.closeAllConnections();
    server.close();
  });

  /** A client socket and the server's side of it, once the server has seen the connection. */
  async function connect(): Promise<{ client: net.Socket; serverSide: net.Socket }> {
    const accepted = once(server, "connection") as Promise<[net.Socket]>;
    const client = net.connect(port, "127.0.0.1");
    client.on("error", () => {});
    const [serverSide] = await accepted;
    return { client, serverSide };
  }

  /** Open one millisecond before `ms` from now, closed at it. */
  async function closedExactlyAfter(ms: number, client: net.Socket, serverSide: net.Socket): Promise<void> {
    vi.advanceTimersByTime(ms - 1);
    expect(serverSide.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(serverSide.destroyed).toBe(true);
    await once(client, "close");
  }

  it("closes a connection whose request head is not complete at the deadline, not a millisecond before", async () => {
    expect(deadline.sweeping).toBe(false);
    const { client, serverSide } = await connect();
    client.write("GET / HTTP/1.1\r\nHost: x\r\n"); // never finishes its head
    expect(deadline.sweeping).toBe(true);

    await closedExactlyAfter(300, client, serverSide);
  });

  it("serves a request that completes in time, and keeps no timer once no connection is left", async () => {
    const { client, serverSide } = await connect();
    let got = "";
    client.on("data", (d: Buffer) => (got += d.toString()));
    client.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await once(client, "close");
    expect(got).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(got.endsWith("ok")).toBe(true);
    if (!serverSide.closed) await once(serverSide, "close");
    // With no connection left, the sweep is gone: an idle daemon is not woken every second.
    expect(deadline.sweeping).toBe(false);
  });

  it("gives a kept-alive connection a new deadline from the end of each response", async () => {
    const { client, serverSide } = await connect();
    let got = "";
    client.on("data", (d: Buffer) => (got += d.toString()));
    // Most of the first deadline passes before the request comes.
    vi.advanceTimersByTime(250);
    client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    while (!got.endsWith("ok")) await once(client, "data");
    expect(got).toMatch(/^HTTP\/1\.1 200 OK/);
    // The response was sent at +250: the idle connection now has until +550, not +300 or +60 s.
    await closedExactlyAfter(300, client, serverSide);
  });

  it("sets no deadline while a request is being answered, however long that takes", async () => {
    const { client, serverSide } = await connect();
    deadline.answering(serverSide);
    vi.advanceTimersByTime(10_000);
    expect(serverSide.destroyed).toBe(false);
    // Answered at +10 s: due again from then.
    deadline.answered(serverSide);
    await closedExactlyAfter(300, client, serverSide);
  });

  it("an answer written after its connection closed does not bring the connection back into the sweep", async () => {
    const { client, serverSide } = await connect();
    deadline.answering(serverSide);
    client.destroy();
    if (!serverSide.closed) await once(serverSide, "close");
    expect(deadline.sweeping).toBe(false);
    deadline.answered(serverSide);
    deadline.answering(serverSide);
    // Were it back in, the sweep would outlive the next connection (and hold the socket for good).
    const next = await connect();
    expect(deadline.sweeping).toBe(true);
    next.client.destroy();
    if (!next.serverSide.closed) await once(next.serverSide, "close");
    expect(deadline.sweeping).toBe(false);
  });
});
