import type { Timer, Timers } from "../clock.js";

/** However many callers ask, one piece of work per key is under way; they all share its outcome. */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.flights.get(key);
    if (existing) return existing;
    const promise = work().finally(() => {
      if (this.flights.get(key) === promise) this.flights.delete(key);
    });
    // The work goes on after a caller gave up waiting; its failure reaches whoever still waits.
    promise.catch(() => {});
    this.flights.set(key, promise);
    return promise;
  }

  has(key: string): boolean {
    return this.flights.has(key);
  }
}

/** `p`, or `onTimeout()` thrown once `ms` pass first (the work itself goes on). */
export async function within<T>(timers: Timers, ms: number, p: Promise<T>, onTimeout: () => Error): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = timers.after(ms, () => reject(onTimeout()));
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    timer?.cancel();
  }
}
