import { describe, expect, it } from "vitest";
import { MemoryStore } from "./memory.js";
import { Secrets } from "./secrets.js";

/**
 * The keychain calls on one item run in the order they were made (keytar runs each on the thread
 * pool, so a delete issued after a set could land first and leave a revoked session stored). The
 * store here holds every call until the test lets it go.
 */
class HeldStore extends MemoryStore {
  readonly log: string[] = [];
  private held: Array<() => void> = [];

  private hold<T>(what: string, run: () => Promise<T>): Promise<T> {
    this.log.push(`start ${what}`);
    return new Promise<void>((r) => this.held.push(r)).then(async () => {
      const v = await run();
      this.log.push(`end ${what}`);
      return v;
    });
  }
  override set(key: string, value: string): Promise<void> {
    return this.hold(`set ${key}`, () => super.set(key, value));
  }
  override delete(key: string): Promise<boolean> {
    return this.hold(`delete ${key}`, () => super.delete(key));
  }
  /** Lets the oldest held call run. */
  release(): void {
    this.held.shift()?.();
  }
  get waiting(): number {
    return this.held.length;
  }
}

const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe("Secrets: one item's keychain calls in the order made", () => {
  it("a remove made while a put is under way starts only after the put ended: nothing is left stored", async () => {
    const store = new HeldStore();
    const s = await Secrets.open(store);
    const put = s.put("session", "audit", { k: 1 }, 9e15);
    const removed = s.remove("session", "audit");
    await tick();
    // Only the put has reached the keychain; the delete waits for it.
    expect(store.log).toEqual(["start set session:audit"]);
    store.release();
    await put;
    await tick();
    expect(store.log).toEqual(["start set session:audit", "end set session:audit", "start delete session:audit"]);
    store.release();
    await removed;
    expect(await store.list()).toEqual([]);
    expect(s.take("session", "audit", 0)).toBeNull();
  });

  it("a failed call does not stop the next one on the same item", async () => {
    const store = new MemoryStore();
    let fail = true;
    const set = store.set.bind(store);
    store.set = async (k, v) => {
      if (fail) {
        fail = false;
        throw new Error("keychain locked");
      }
      return set(k, v);
    };
    const s = await Secrets.open(store);
    const first = s.put("session", "audit", { k: 1 }, 9e15);
    const second = s.put("session", "audit", { k: 2 }, 9e15);
    await expect(first).rejects.toThrow("keychain locked");
    await second;
    expect(JSON.parse((await store.get("session:audit"))!).data).toEqual({ k: 2 });
  });

  it("calls on different items do not wait for each other", async () => {
    const store = new HeldStore();
    const s = await Secrets.open(store);
    void s.put("session", "a", 1, 9e15);
    void s.put("session", "b", 2, 9e15);
    await tick();
    expect(store.log).toEqual(["start set session:a", "start set session:b"]);
    store.release();
    store.release();
    await tick();
  });

  it("once an item's calls are done, the next call starts at once", async () => {
    const store = new HeldStore();
    const s = await Secrets.open(store);
    const put = s.put("session", "a", 1, 9e15);
    await tick();
    store.release();
    await put;
    await tick();
    void s.remove("session", "a");
    expect(store.log.at(-1)).toBe("start delete session:a");
    store.release();
    await tick();
  });

  it("nextExpiry is the earliest, and null when empty; keys lists what is held", async () => {
    const s = await Secrets.open(new MemoryStore());
    expect(s.nextExpiry()).toBeNull();
    await s.put("session", "a", 1, 3000);
    await s.put("session", "b", 1, 2000);
    await s.put("sso-login", "c", 1, 4000);
    expect(s.nextExpiry()).toBe(2000);
    expect(s.keys().sort()).toEqual(["session:a", "session:b", "sso-login:c"]);
    await s.removeKind("session");
    expect(s.keys()).toEqual(["sso-login:c"]);
    expect(s.nextExpiry()).toBe(4000);
  });

  it("put tells the expiry scheduler an item changed", async () => {
    const s = await Secrets.open(new MemoryStore());
    let changed = 0;
    s.changed = () => changed++;
    await s.put("session", "a", 1, 3000);
    expect(changed).toBe(1);
  });
});
