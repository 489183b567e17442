import type { ProfileConfig } from "../config/types.js";
import { MintRefusedError, type S3jitError } from "../errors.js";
import type { Refusal } from "./ports.js";

/**
 * Why each profile was last refused (for `status`), and the refusals STS made for good: a config
 * STS refused (a policy too large, malformed) is not asked about again until a reload replaces it.
 */
export class Refusals {
  private readonly last = new Map<string, Refusal>();
  private readonly forGood = new Map<string, { cfg: ProfileConfig; error: MintRefusedError }>();

  record(name: string, e: S3jitError, at: number): void {
    this.last.set(name, { code: e.code, at, ...(e instanceof MintRefusedError ? { reason: e.awsCode } : {}) });
  }

  lastOf(name: string): Refusal | null {
    return this.last.get(name) ?? null;
  }

  /** STS refused this config for good. */
  refuseForGood(name: string, cfg: ProfileConfig, error: MintRefusedError): void {
    this.forGood.set(name, { cfg, error });
  }

  /** The refusal that stands for this very config object, if any (a reload brings a new one). */
  standing(name: string, cfg: ProfileConfig): MintRefusedError | null {
    const r = this.forGood.get(name);
    if (r?.cfg === cfg) return r.error;
    this.forGood.delete(name);
    return null;
  }
}
