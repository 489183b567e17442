import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryStore } from "./memory.js";
import { Secrets, scheduleExpiry } from "./secrets.js";

describe("Secrets: typed items with an expiry over a raw store", () => {
  it("returns an item until it expires, then deletes it from the store on read", async () => {
    const store = new MemoryStore();
    const s = await Secrets.open(store);
    await s.put("session", "audit", { k: "v" }, 1000);
    expect(s.take("session", "audit", 999)).toEqual({ k: "v" });
    expect(s.take("session", "audit", 1000)).toBeNull();
    await new Promise((r) => setImmediate(r));
    expect(await store.list()).toEqual([]);
  });

  it("reads every item once at open, and later reads do not touch the store", async () => {
    const store = new MemoryStore();
    await (await Secrets.open(store)).put("sso-login", "corp", { t: 1 }, 5000);
    let reads = 0;
    const counting = Object.assign(Object.create(store) as MemoryStore, {
      get: async (k: string) => {
        reads++;
        return store.get(k);
      },
    });
    const s = await Secrets.open(counting);
    expect(reads).toBe(1);
    for (let i = 0; i < 10; i++) expect(s.take("sso-login", "corp", 0)).toEqual({ t: 1 });
    expect(reads).toBe(1);
  });

  it.each([
    ["text that is not JSON", "{not json"],
    ["another format version", JSON.stringify({ v: 2, expiresAt: 9e15, data: {} })],
    ["no expiry", JSON.stringify({ v: 1, data: {} })],
    ["a non-numeric expiry", JSON.stringify({ v: 1, expiresAt: "soon", data: {} })],
    ["no data", JSON.stringify({ v: 1, expiresAt: 9e15 })],
    ["JSON null", "null"],
    ["a bare number", "42"],
  ])("discards a stored item (%s) instead of serving it", async (_, raw) => {
    const store = new MemoryStore();
    await store.set("session:audit", raw);
    await store.set("session:good", JSON.stringify({ v: 1, expiresAt: 9e15, data: { ok: true } }));
    const s = await Secrets.open(store);
    expect(s.take("session", "audit", 0)).toBeNull();
    expect(s.take("session", "good", 0)).toEqual({ ok: true });
    expect(await store.list()).toEqual(["session:good"]);
  });

  it("writes items as {v:1, expiresAt, data} JSON, one store key per kind and owner", async () => {
    const store = new MemoryStore();
    const s = await Secrets.open(store);
    await s.put("endpoint-token", "audit", "tok", 1234);
    expect(await store.list()).toEqual(["endpoint-token:audit"]);
    expect(JSON.parse((await store.get("endpoint-token:audit"))!)).toEqual({ v: 1, expiresAt: 1234, data: "tok" });
    // A fresh open (a daemon restart) serves what the last one wrote.
    expect((await Secrets.open(store)).take("endpoint-token", "audit", 0)).toBe("tok");
  });

  it("remove deletes one item from memory and store; the same owner under another kind stays", async () => {
    const store = new MemoryStore();
    const s = await Secrets.open(store);
    await s.put("session", "audit", 1, 9e15);
    await s.put("endpoint-token", "audit", 2, 9e15);
    await s.remove("session", "audit");
    expect(s.take("session", "audit", 0)).toBeNull();
    expect(s.take("endpoint-token", "audit", 0)).toBe(2);
    expect(await store.list()).toEqual(["endpoint-token:audit"]);
  });

  it("purgeExpired stops serving expired items even when the keychain refuses the delete, then reports it", async () => {
    const store = new MemoryStore();
    const s = await Secrets.open(store);
    await s.put("session", "a", 1, 100);
    await s.put("session", "b", 2, 100);
    store.delete = async () => {
      throw new Error("keychain locked");
    };
    await expect(s.purgeExpired(200)).rejects.toThrow("keychain locked");
    expect(s.take("session", "a", 0)).toBeNull();
    expect(s.take("session", "b", 0)).toBeNull();
    expect(s.nextExpiry()).toBeNull();
  });

  it("purgeExpired removes only what has expired; nextExpiry names the next deadline", async () => {
    const store = new MemoryStore();
    const s = await Secrets.open(store);
    await s.put("session", "a", 1, 100);
    await s.put("session", "b", 2, 300);
    await s.put("sso-login", "corp", 3, 200);
    expect(s.nextExpiry()).toBe(100);
    expect(await s.purgeExpired(250)).toBe(2);
    expect((await store.list()).sort()).toEqual(["session:b"]);
    expect(s.nextExpiry()).toBe(300);
  });

  it("removeKind removes every item of one kind", async () => {
    const s = await Secrets.open(new MemoryStore());
    await s.put("session", "a", 1, 9e15);
    await s.put("session", "b", 1, 9e15);
    await s.put("sso-login", "corp", 1, 9e15);
    await s.removeKind("session");
    expect(s.keys()).toEqual(["sso-login:corp"]);
    expect(s.take("sso-login", "corp", 0)).toBe(1);
  });

  it("returns copies: a caller mutating a value does not change the stored one", async () => {
    const s = await Secrets.open(new MemoryStore());
    await s.put("session", "a", { n: 1 }, 9e15);
    const v = s.take<{ n: number }>("session", "a", 0)!;
    v.n = 2;
    expect(s.take("session", "a", 0)).toEqual({ n: 1 });
  });

  it("scheduleExpiry fires one timer at the next expiry and purges", async () => {
    const store = new MemoryStore();
    const s = await Secrets.open(store);
    const now = Date.now();
    await s.put("session", "a", 1, now + 50);
    await s.put("session", "b", 1, now + 60_000);
    const fired = new Promise<void>((resolve) => {
      const t = scheduleExpiry(s, () => Date.now(), () => {
        t.stop();
        resolve();
      });
    });
    await fired;
    expect(await store.list()).toEqual(["session:b"]);
  });
});

describe("scheduleExpiry: one timer at the next expiry", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("holds one timer at a time, never fires before the next expiry, and survives expiries beyond setTimeout's 2^31-1 ms", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const start = Date.now();
    const day = 86_400_000;
    const s = await Secrets.open(new MemoryStore());
    await s.put("sso-login", "corp", 1, start + 60 * day);
    let fired = 0;
    const t = scheduleExpiry(s, () => Date.now(), () => fired++);
    await s.put("session", "a", 1, start + 10 * day);
    expect(vi.getTimerCount()).toBe(1);
    // Beyond 2^31-1 ms Node would fire at once: a busy loop instead of a timer.
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * day - 1000 - 1);
    expect(fired).toBe(0);
    expect(s.take("session", "a", Date.now())).toEqual(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toBe(1);
    expect(s.keys()).toEqual(["sso-login:corp"]);
    expect(vi.getTimerCount()).toBe(1);
    // The remaining 50 days take more than one 24.8-day timer; only the real expiry counts.
    await vi.advanceTimersByTimeAsync(50 * day - 1000);
    expect(fired).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toBe(2);
    expect(s.keys()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    t.stop();
  });

  it("keeps going when the keychain refuses a delete: the item is no longer served and later expiries still fire", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const store = new MemoryStore();
    const s = await Secrets.open(store);
    const start = Date.now();
    await s.put("session", "a", 1, start + 1000);
    await s.put("session", "b", 1, start + 5000);
    let refuse = true;
    const realDelete = store.delete.bind(store);
    store.delete = async (k) => {
      if (refuse) throw new Error("keychain locked");
      return realDelete(k);
    };
    let fired = 0;
    const t = scheduleExpiry(s, () => Date.now(), () => fired++);
    await vi.advanceTimersByTimeAsync(1100);
    expect(fired).toBe(1);
    expect(s.take("session", "a", 0)).toBeNull();
    refuse = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(fired).toBe(2);
    expect(await store.list()).toEqual(["session:a"]);
    // The copy the keychain kept is expired: the next open drops it.
    const again = await Secrets.open(store);
    expect(again.take("session", "a", Date.now())).toBeNull();
    expect(await store.list()).toEqual([]);
    t.stop();
  });

  it("stop() leaves no timer behind", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const s = await Secrets.open(new MemoryStore());
    await s.put("session", "a", 1, Date.now() + 1000);
    let fired = 0;
    scheduleExpiry(s, () => Date.now(), () => fired++).stop();
    await s.put("session", "b", 1, Date.now() + 500);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(fired).toBe(0);
  });
});
