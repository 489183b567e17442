import { afterEach, beforeEach, describe, expect, it } from "vitest";
import net from "node:net";
import { once } from "node:events";
import { ManualClock, ManualTimers } from "../clock.js";
import { whenQuiet } from "./quiet.js";

// Real sockets on loopback; the quiet period runs on manual timers, so each case is checked at
// its exact millisecond however slow the machine.
describe("whenQuiet", () => {
  let server: net.Server;
  let timers: ManualTimers;
  let quiet: number;
  const clients: net.Socket[] = [];

  beforeEach(async () => {
    timers = new ManualTimers(new ManualClock(0));
    quiet = 0;
    server = net.createServer((s) => s.on("error", () => {}));
    whenQuiet(server, 1000, () => quiet++, { timers });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await new Promise((r) => server.close(r));
  });

  /** A connection `to` has accepted, and a way to close it that waits for the server's side. */
  async function connect(to: net.Server = server): Promise<{ close(): Promise<void> }> {
    const accepted = once(to, "connection") as Promise<[net.Socket]>;
    const client = net.connect((to.address() as net.AddressInfo).port, "127.0.0.1");
    client.on("error", () => {});
    clients.push(client);
    const [serverSide] = await accepted;
    return {
      async close() {
        const closed = once(serverSide, "close");
        client.destroy();
        await closed;
      },
    };
  }

  it("says so once, afterMs after the last connection closed, not a millisecond before", async () => {
    const a = await connect();
    const b = await connect();
    await a.close();
    timers.advance(5000);
    expect(quiet).toBe(0); // b is still open: a load on kept-alive connections is never quiet
    await b.close();
    timers.advance(999);
    expect(quiet).toBe(0);
    timers.advance(1);
    expect(quiet).toBe(1);
    timers.advance(60_000);
    expect(quiet).toBe(1);
  });

  it("a connection within the quiet period starts it again", async () => {
    await (await connect()).close();
    timers.advance(900);
    const c = await connect();
    timers.advance(5000);
    expect(quiet).toBe(0);
    await c.close();
    timers.advance(1000);
    expect(quiet).toBe(1);
  });

  it("says so again after each busy spell", async () => {
    await (await connect()).close();
    timers.advance(1000);
    await (await connect()).close();
    timers.advance(1000);
    expect(quiet).toBe(2);
  });

  it("nothing is pending once the server closed", async () => {
    await (await connect()).close();
    expect(timers.size).toBe(1);
    await new Promise((r) => server.close(r));
    expect(timers.size).toBe(0);
    server.listen(0, "127.0.0.1"); // for afterEach's close
    await once(server, "listening");
  });

  it("a failing onQuiet is reported and the next quiet spell still calls it", async () => {
    const errors: unknown[] = [];
    const other = net.createServer((s) => s.on("error", () => {}));
    let calls = 0;
    whenQuiet(
      other,
      10,
      () => {
        calls++;
        throw new Error("boom");
      },
      { timers, onError: (e) => errors.push(e) },
    );
    other.listen(0, "127.0.0.1");
    await once(other, "listening");
    for (let i = 0; i < 2; i++) {
      await (await connect(other)).close();
      timers.advance(10);
    }
    expect(calls).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(["boom", "boom"]);
    await new Promise((r) => other.close(r));
  });
});
