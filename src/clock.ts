/** Time source injected everywhere a decision depends on "now", so tests drive time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2026, 10, 28, 10, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A scheduled callback; cancelling twice, or after it ran, does nothing. */
export interface Timer {
  cancel(): void;
}

/**
 * Where delayed work is scheduled, injected beside Clock: tests run timers by hand instead of
 * patching the globals, and "three hours later" takes no time.
 */
export interface Timers {
  /** Runs `fn` once, `ms` from now (negative means at once). */
  after(ms: number, fn: () => void): Timer;
}

/** Node's setTimeout accepts at most 2^31 − 1 ms; longer delays would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Real timers, unref'd: a pending refresh or window end never keeps the process alive. */
export const systemTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, Math.min(Math.max(ms, 0), MAX_DELAY_MS));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** Timers that fire only when a test moves the ManualClock through them with `advance`. */
export class ManualTimers implements Timers {
  private pending: Pending[] = [];
  private seq = 0;

  constructor(private readonly clock: ManualClock) {}

  after(ms: number, fn: () => void): Timer {
    const p: Pending = { at: this.clock.now() + Math.max(ms, 0), seq: this.seq++, fn };
    this.pending.push(p);
    return { cancel: () => (this.pending = this.pending.filter((q) => q !== p)) };
  }

  /** How many timers wait. */
  get size(): number {
    return this.pending.length;
  }

  /** When the next timer fires, or null. */
  next(): number | null {
    return this.pending.reduce<number | null>((min, p) => (min === null || p.at < min ? p.at : min), null);
  }

  /**
   * Moves the clock `ms` on. Every timer due on the way fires in order, with the clock set to its
   * moment (a timer set by a firing timer fires too, if it falls due in the same stretch).
   */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    while (this.fireNext(end));
    this.clock.set(Math.max(end, this.clock.now()));
  }

  /** Like `advance`, but promise chains run between two timers, as they do with real timers. */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.fireNext(end)) await new Promise((r) => setImmediate(r));
    this.clock.set(Math.max(end, this.clock.now()));
  }

  private fireNext(end: number): boolean {
    const due = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
    if (!due) return false;
    this.pending = this.pending.filter((p) => p !== due);
    if (due.at > this.clock.now()) this.clock.set(due.at);
    due.fn();
    return true;
  }
}
