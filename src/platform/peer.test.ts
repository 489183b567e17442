import { describe, expect, it } from "vitest";
import net from "node:net";
import { findPeer } from "./peer.js";

describe.skipIf(process.platform !== "linux")("findPeer (Linux /proc)", () => {
  it("finds the process on the client end of a loopback connection", async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const serverPort = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const client = net.connect(serverPort, "127.0.0.1");
    const sock = await accepted;
    try {
      const peer = await findPeer(sock.remotePort!, serverPort);
      // Both ends live in this process: the peer is us.
      expect(peer?.pid).toBe(process.pid);
      expect(peer?.exe).toBe(process.execPath);
      expect(peer?.cwd).toBe(process.cwd());
    } finally {
      client.destroy();
      sock.destroy();
      server.close();
    }
  });

  it("answers null when no such connection exists", async () => {
    expect(await findPeer(1, 2)).toBeNull();
  });
});
