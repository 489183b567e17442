import { describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { enforceHeaderDeadline } from "./header-deadline.js";

describe("enforceHeaderDeadline", () => {
  it("closes a connection whose request head does not complete in time, serves one that does, and keeps no timer while idle", async () => {
    const server = http.createServer((_req, res) => res.end("ok"));
    const deadline = enforceHeaderDeadline(server, 300, 50);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    expect(deadline.sweeping).toBe(false);

    const slow = net.connect(port, "127.0.0.1");
    slow.write("GET / HTTP/1.1\r\nHost: x\r\n"); // never finishes its head
    await new Promise((r) => slow.once("connect", r));
    await new Promise((r) => setTimeout(r, 20));
    expect(deadline.sweeping).toBe(true);
    const closedAt = await new Promise<number>((resolve) => slow.on("close", () => resolve(Date.now())));
    expect(closedAt).toBeGreaterThan(0);

    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
    expect(await res.text()).toBe("ok");

    // With no connection left, the sweep is gone: an idle daemon is not woken every second.
    await new Promise((r) => setTimeout(r, 100));
    expect(deadline.sweeping).toBe(false);
    server.close();
  });

  it("gives a kept-alive connection a new deadline after each response", async () => {
    const server = http.createServer((_req, res) => res.end("ok"));
    server.keepAliveTimeout = 60_000;
    enforceHeaderDeadline(server, 300, 50);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const sock = net.connect(port, "127.0.0.1");
    let got = "";
    sock.on("data", (d: Buffer) => (got += d.toString()));
    sock.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const closed = await new Promise<boolean>((resolve) => {
      sock.on("close", () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    expect(got).toContain("200 OK");
    expect(closed).toBe(true); // idle after the answer: closed at the deadline, not after 60 s
    server.close();
  });
});
