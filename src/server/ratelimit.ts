export interface RefusalLimiterOptions {
  /** Refusals allowed per window before the lockout starts. */
  limit?: number;
  windowMs?: number;
  /** How long the lockout lasts after the last window that went over the limit. */
  lockMs?: number;
  now?: () => number;
}

export type RefusalVerdict =
  | { limited: false }
  /** `started`: this refusal began the lockout (so the audit gets one line, not a flood). */
  | { limited: true; retryAfterSeconds: number; started: boolean };

const NOT_LIMITED: RefusalVerdict = { limited: false };

/**
 * Counts refused requests in fixed windows. Above the limit every further refusal is answered 429
 * until the lockout ends; refusals keep counting meanwhile, so a flood that goes on keeps it locked.
 * Requests that pass never reach this: the threat is token guessing, and a process holding the
 * right token is the user's own — locking it out would hand any local process a way to cut off the
 * user's SDKs.
 */
export class RefusalLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly lockMs: number;
  private readonly now: () => number;
  private windowStart = -Infinity;
  private count = 0;
  private lockedUntil = -Infinity;

  constructor(opts: RefusalLimiterOptions = {}) {
    this.limit = opts.limit ?? 50;
    this.windowMs = opts.windowMs ?? 1000;
    this.lockMs = opts.lockMs ?? 2000;
    this.now = opts.now ?? Date.now;
  }

  /** Record one refusal and say whether to answer it with 429 instead. */
  refuse(): RefusalVerdict {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    const wasLocked = now < this.lockedUntil;
    if (this.count > this.limit) this.lockedUntil = Math.max(this.lockedUntil, now + this.lockMs);
    if (now >= this.lockedUntil) return NOT_LIMITED;
    return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((this.lockedUntil - now) / 1000)), started: !wasLocked };
  }
}
