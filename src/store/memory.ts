import type { SecretStore } from "./secret-store.js";

/** keychain = "memory": nothing survives a restart, nothing touches the disk. */
export class MemoryStore implements SecretStore {
  private readonly items = new Map<string, string>();
  async get(key: string): Promise<string | null> {
    return this.items.get(key) ?? null;
  }
  async set(key: string, value: string): Promise<void> {
    this.items.set(key, value);
  }
  async delete(key: string): Promise<boolean> {
    return this.items.delete(key);
  }
  async list(): Promise<string[]> {
    return [...this.items.keys()];
  }
}
