import type { SecretStore } from "./secret-store.js";

/**
 * What the keychain holds. One item per SSO instance carries both its client registration and its
 * tokens ("sso-login"): fewer items, fewer reads (and, on macOS, fewer prompts).
 */
export type SecretKind = "sso-login" | "session" | "endpoint-token";

interface Item {
  v: 1;
  expiresAt: number;
  data: unknown;
}

const key = (kind: string, owner: string) => `${kind}:${owner}`;

/** What the broker and the SSO logins need of the secret store: typed items with an expiry. */
export interface Vault {
  take<T>(kind: SecretKind, owner: string, now: number): T | null;
  put(kind: SecretKind, owner: string, value: unknown, expiresAt: number): Promise<void>;
  remove(kind: SecretKind, owner: string): Promise<void>;
}

/**
 * Typed secrets with an expiry, over a SecretStore. Every item is read once at open() and then
 * served from memory (on macOS each keychain read can cost a prompt); writes go through.
 */
export class Secrets implements Vault {
  private readonly items = new Map<string, Item>();
  /** Per item, the keychain call last issued (settled either way): the next one waits for it. */
  private readonly calls = new Map<string, Promise<void>>();
  /** Set by scheduleExpiry: a new item may expire before the timer that is armed. */
  changed?: () => void;

  private constructor(private readonly store: SecretStore) {}

  static async open(store: SecretStore): Promise<Secrets> {
    const s = new Secrets(store);
    for (const k of await store.list()) {
      const raw = await store.get(k);
      const item = raw === null ? null : parse(raw);
      // An item that does not parse is never served: it is dropped, and its owner re-mints.
      if (item) s.items.set(k, item);
      else await store.delete(k);
    }
    return s;
  }

  take<T>(kind: SecretKind, owner: string, now: number): T | null {
    const k = key(kind, owner);
    const item = this.items.get(k);
    if (!item) return null;
    if (item.expiresAt <= now) {
      this.items.delete(k);
      void this.inOrder(k, () => this.store.delete(k)).catch(() => {});
      return null;
    }
    return structuredClone(item.data) as T;
  }

  async put(kind: SecretKind, owner: string, value: unknown, expiresAt: number): Promise<void> {
    const item: Item = { v: 1, expiresAt, data: structuredClone(value) };
    this.items.set(key(kind, owner), item);
    this.changed?.();
    await this.inOrder(key(kind, owner), () => this.store.set(key(kind, owner), JSON.stringify(item)));
  }

  async remove(kind: SecretKind, owner: string): Promise<void> {
    this.items.delete(key(kind, owner));
    await this.inOrder(key(kind, owner), () => this.store.delete(key(kind, owner)));
  }

  async removeKind(kind: SecretKind): Promise<void> {
    const prefix = `${kind}:`;
    await Promise.all([...this.items.keys()].filter((k) => k.startsWith(prefix)).map((k) => this.remove(kind, k.slice(prefix.length))));
  }

  /**
   * Delete what has expired; returns how many items went. Memory is cleared first, so an expired
   * item is never served even when the keychain refuses a delete (that error is then thrown, after
   * every delete was tried).
   */
  async purgeExpired(now: number): Promise<number> {
    const gone = [...this.items].filter(([, it]) => it.expiresAt <= now).map(([k]) => k);
    for (const k of gone) this.items.delete(k);
    const failed = (await Promise.allSettled(gone.map((k) => this.inOrder(k, () => this.store.delete(k))))).find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    return gone.length;
  }

  /**
   * Runs the keychain calls on one item one after another, in the order they were made. keytar
   * runs each call on the thread pool, so a delete issued after a set could reach the keychain
   * first: a session stored while a revoke or logout removed it stayed there until it expired.
   */
  private inOrder<T>(k: string, call: () => Promise<T>): Promise<T> {
    const before = this.calls.get(k);
    // Nothing in flight: the call starts now, as it did before there was a queue.
    const result = before ? before.then(call) : call();
    const settled = result.then(
      () => {},
      () => {},
    );
    this.calls.set(k, settled);
    void settled.then(() => {
      if (this.calls.get(k) === settled) this.calls.delete(k);
    });
    return result;
  }

  nextExpiry(): number | null {
    let next: number | null = null;
    for (const it of this.items.values()) if (next === null || it.expiresAt < next) next = it.expiresAt;
    return next;
  }

  keys(): string[] {
    return [...this.items.keys()];
  }
}

function parse(raw: string): Item | null {
  try {
    const it = JSON.parse(raw) as Partial<Item>;
    if (it && it.v === 1 && typeof it.expiresAt === "number" && "data" in it) return it as Item;
  } catch {
    // fall through
  }
  return null;
}

/**
 * One timer at the next expiry, re-armed after each: no polling loop, so an idle daemon does no
 * work until something really expires. The timer is unref'd: it never keeps a process alive.
 * `onExpire` runs after each purge that removed something.
 */
export function scheduleExpiry(secrets: Secrets, now: () => number, onExpire: () => void): { rearm(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const fire = async () => {
    const before = secrets.keys().length;
    try {
      await secrets.purgeExpired(now());
    } catch {
      // The keychain refused a delete: the item is already gone from memory (never served), and
      // the expired copy left in the keychain is dropped at the next open. Keep the timer going.
    }
    rearm();
    if (secrets.keys().length < before) onExpire();
  };
  const rearm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const next = secrets.nextExpiry();
    if (next === null || stopped) return;
    // setTimeout treats anything above 2^31-1 ms (~24.8 days) as 1 ms; a far expiry re-arms instead.
    timer = setTimeout(() => void fire(), Math.min(Math.max(next - now(), 0) + 10, 2 ** 31 - 1));
    timer.unref();
  };
  secrets.changed = rearm;
  rearm();
  return {
    rearm,
    stop: () => {
      stopped = true;
      secrets.changed = undefined;
      if (timer) clearTimeout(timer);
    },
  };
}
