import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../../src/store/memory.js";
import { Secrets, scheduleExpiry } from "../../src/store/secrets.js";

/**
 * The secret facade's keychain calls at their edges: which calls reach the store (on macOS each
 * can cost a prompt), an item at exactly its expiry, the order of one item's calls after a queue
 * drained, and the expiry timer: one wake-up per expiry, none after stop().
 */

/** Every call the store receives, in order; a call can be held until the test lets it go. */
class RecordingStore extends MemoryStore {
  readonly log: string[] = [];
  holdNext = 0;
  private held: Array<() => void> = [];

  private run<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.log.push(`start ${what}`);
    const go = async () => {
      const v = await call();
      this.log.push(`end ${what}`);
      return v;
    };
    if (this.holdNext === 0) return go();
    this.holdNext--;
    return new Promise<void>((r) => this.held.push(r)).then(go);
  }
  override set(key: string, value: string): Promise<void> {
    return this.run(`set ${key}`, () => super.set(key, value));
  }
  override delete(key: string): Promise<boolean> {
    return this.run(`delete ${key}`, () => super.delete(key));
  }
  release(): void {
    this.held.shift()?.();
  }
}

const tick = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe("Secrets: the calls that reach the keychain", () => {
  it("removeKind deletes only its own kind's items: no call for any other key", async () => {
    const store = new RecordingStore();
    const s = await Secrets.open(store);
    await s.put("session", "audit", 1, 9e15);
    await s.put("session", "other", 1, 9e15);
    await s.put("sso-login", "corp", 1, 9e15);
    await s.put("endpoint-token", "audit", 1, 9e15);
    store.log.length = 0;
    await s.removeKind("session");
    expect(store.log.filter((l) => l.startsWith("start")).sort()).toEqual(["start delete session:audit", "start delete session:other"]);
    expect(s.keys().sort()).toEqual(["endpoint-token:audit", "sso-login:corp"]);
  });

  it("purgeExpired at exactly an item's expiry removes it", async () => {
    const store = new RecordingStore();
    const s = await Secrets.open(store);
    await s.put("session", "a", 1, 1000);
    await s.put("session", "b", 1, 1001);
    expect(await s.purgeExpired(999)).toBe(0);
    expect(await s.purgeExpired(1000)).toBe(1);
    expect(s.keys()).toEqual(["session:b"]);
    expect(await store.list()).toEqual(["session:b"]);
  });

  it("after a queue on one item drained to its last call, a new call still waits for that last call", async () => {
    const store = new RecordingStore();
    const s = await Secrets.open(store);
    store.holdNext = 2;
    const put = s.put("session", "a", 1, 9e15);
    const removed = s.remove("session", "a");
    await tick();
    expect(store.log).toEqual(["start set session:a"]);
    store.release();
    await tick();
    // The put ended and the remove is under way (held): a put made now must wait for it.
    expect(store.log).toEqual(["start set session:a", "end set session:a", "start delete session:a"]);
    const again = s.put("session", "a", 2, 9e15);
    await tick();
    expect(store.log).toHaveLength(3);
    store.release();
    await Promise.all([put, removed, again]);
    expect(store.log).toEqual(["start set session:a", "end set session:a", "start delete session:a", "end delete session:a", "start set session:a", "end set session:a"]);
    expect(JSON.parse((await store.get("session:a"))!)).toMatchObject({ data: 2 });
  });
});

describe("scheduleExpiry", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("wakes up once per expiry, after it: no early wake-ups that find nothing to do", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const s = await Secrets.open(new MemoryStore());
    const start = Date.now();
    await s.put("session", "a", 1, start + 1000);
    await s.put("session", "b", 1, start + 60_000);
    let purges = 0;
    const purge = s.purgeExpired.bind(s);
    s.purgeExpired = (now: number) => {
      purges++;
      return purge(now);
    };
    let fired = 0;
    const t = scheduleExpiry(s, () => Date.now(), () => fired++);
    await vi.advanceTimersByTimeAsync(2000);
    expect({ purges, fired }).toEqual({ purges: 1, fired: 1 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect({ purges, fired }).toEqual({ purges: 2, fired: 2 });
    t.stop();
  });

  it("stop() during a purge under way: no timer is armed afterwards, no later expiry is announced", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const store = new RecordingStore();
    const s = await Secrets.open(store);
    const start = Date.now();
    await s.put("session", "a", 1, start + 1000);
    await s.put("session", "b", 1, start + 5000);
    let fired = 0;
    const t = scheduleExpiry(s, () => Date.now(), () => fired++);
    store.holdNext = 1;
    await vi.advanceTimersByTimeAsync(1100);
    expect(store.log.at(-1)).toBe("start delete session:a");
    t.stop();
    store.release();
    await vi.advanceTimersByTimeAsync(0);
    await tick();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fired).toBeLessThanOrEqual(1);
    expect(s.keys()).toEqual(["session:b"]);
  });
});
