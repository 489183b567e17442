import type { Timer, Timers } from "../clock.js";

/**
 * However many callers ask, one piece of work per name is under way; they all share its outcome.
 * Each flight carries a ticket (what it was started under): a caller with another ticket starts
 * a new flight instead of joining one the state has moved past.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, { ticket: string; promise: Promise<T> }>();

  run(name: string, ticket: string, work: () => Promise<T>): Promise<T> {
    const existing = this.flights.get(name);
    if (existing?.ticket === ticket) return existing.promise;
    const promise = work().finally(() => {
      if (this.flights.get(name)?.promise === promise) this.flights.delete(name);
    });
    // The work goes on after a caller gave up waiting; its failure reaches whoever still waits.
    promise.catch(() => {});
    this.flights.set(name, { ticket, promise });
    return promise;
  }

  has(name: string): boolean {
    return this.flights.has(name);
  }
}

/**
 * The state moved past a flight while it ran (its ticket is stale): it stored nothing and has
 * nothing to give. Never leaves the broker: a waiting request decides again under today's state.
 */
export class StaleFlightError extends Error {
  constructor() {
    super("the state changed while this mint ran");
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
