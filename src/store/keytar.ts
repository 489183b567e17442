import { randomBytes } from "node:crypto";
import { KeychainUnavailableError } from "../errors.js";
import type { SecretStore } from "./secret-store.js";

type Keytar = {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
};

let keytarModule: Promise<Keytar> | undefined;

/** Loaded lazily: commands that never touch the keychain (status, env) never load the native module. */
async function loadKeytar(): Promise<Keytar> {
  keytarModule ??= import("@github/keytar").then((m) => ((m as { default?: Keytar }).default ?? (m as unknown as Keytar)));
  try {
    return await keytarModule;
  } catch (err) {
    keytarModule = undefined;
    throw new KeychainUnavailableError(`the keychain library could not be loaded: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** The OS keychain through keytar: one item per secret, service "s3jit", account = key. */
export class KeytarStore implements SecretStore {
  constructor(private readonly service = "s3jit") {}

  private async call<T>(fn: (k: Keytar) => Promise<T>): Promise<T> {
    const k = await loadKeytar();
    try {
      return await fn(k);
    } catch (err) {
      throw new KeychainUnavailableError((err as Error).message.split("\n")[0] ?? "unknown error");
    }
  }

  get(key: string) {
    return this.call((k) => k.getPassword(this.service, key));
  }
  set(key: string, value: string) {
    return this.call((k) => k.setPassword(this.service, key, value));
  }
  delete(key: string) {
    return this.call((k) => k.deletePassword(this.service, key));
  }
  async list() {
    return (await this.call((k) => k.findCredentials(this.service))).map((c) => c.account);
  }
}

/**
 * Write, read back, delete. A locked Secret Service collection answers `get` with null and no
 * error, which looks like "not found": only a read-back of what was just written tells them apart.
 */
export async function probeKeychain(service = "s3jit"): Promise<void> {
  const store = new KeytarStore(service);
  const account = `probe-${randomBytes(6).toString("hex")}`;
  const value = randomBytes(12).toString("base64url");
  await store.set(account, value);
  let back: string | null;
  try {
    back = await store.get(account);
  } finally {
    await store.delete(account).catch(() => false);
  }
  if (back !== value) throw new KeychainUnavailableError("the keychain is locked: a test item written to it could not be read back");
}
