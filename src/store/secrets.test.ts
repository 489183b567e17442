import { describe, expect, it } from "vitest";
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

  it("discards an item that does not parse instead of serving it", async () => {
    const store = new MemoryStore();
    await store.set("session:audit", "{not json");
    await store.set("session:other", JSON.stringify({ v: 2, expiresAt: 9e15, data: {} }));
    const s = await Secrets.open(store);
    expect(s.take("session", "audit", 0)).toBeNull();
    expect(s.take("session", "other", 0)).toBeNull();
    expect(await store.list()).toEqual([]);
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
