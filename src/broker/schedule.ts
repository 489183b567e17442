import type { Clock, Timer, Timers } from "../clock.js";
import type { Session } from "../types.js";
import type { Window } from "../windows/windows.js";
import { endsWithWindow } from "./session-cache.js";

/** Refresh this long before a session ends: ahead of botocore's 15-min and the JS SDK's 5-min marks. */
export const REFRESH_AHEAD_MS = 20 * 60_000;
/** `window-closing` is announced this long before a window's end. */
export const CLOSING_SOON_MS = 5 * 60_000;
/** Back off this long after a failed background mint before trying again. */
export const RETRY_MS = 30_000;
/** A timer may fire a millisecond early; the window is still open then. */
const AFTER_END_MS = 5;

/** What the schedule calls back into the broker for. */
export interface ScheduledWork {
  /** Mint ahead of the session's end (the window goes on). */
  refresh(profile: string): void;
  /** Try a failed background mint again. */
  retry(profile: string): void;
  /** Five minutes before `window.end`. */
  closing(window: Window): void;
  /** The window (or the session that ends with it) has reached `end`. */
  ended(profile: string, end: number): void;
}

/**
 * Every timer of the broker, behind the Timers port. Per profile: one timer at the next real
 * deadline (refresh ahead, a retry, or the end of a session that ends with its window), and one
 * for the window's closing announcements, armed even when no session was ever minted.
 */
export class Schedule {
  private readonly next = new Map<string, Timer>();
  private readonly closing = new Map<string, Timer>();

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly work: ScheduledWork,
  ) {}

  /** After a mint or a restore: refresh ahead, or, for a session that ends with its window, the end. */
  session(name: string, session: Session, window: Window): void {
    const now = this.clock.now();
    // A third of the remaining life at most, so short sessions (session_ttl < 1h) do not refresh in a loop.
    const refreshAt = session.expiration - Math.min(REFRESH_AHEAD_MS, (session.expiration - now) / 3);
    if (endsWithWindow(session, window)) this.arm(this.next, name, window.end - now, () => this.work.ended(name, window.end));
    else this.arm(this.next, name, Math.max(refreshAt, now) - now, () => this.work.refresh(name));
  }

  retry(name: string): void {
    this.arm(this.next, name, RETRY_MS, () => this.work.retry(name));
  }

  /**
   * Trays hear of a window's end without polling: one timer at end − 5 min (window-closing), then
   * one at the end (window-closed).
   */
  window(w: Window): void {
    const atEnd = () => this.arm(this.closing, w.profile, w.end - this.clock.now() + AFTER_END_MS, () => this.work.ended(w.profile, w.end));
    const ms = w.end - CLOSING_SOON_MS - this.clock.now();
    if (ms <= 0) return atEnd();
    this.arm(this.closing, w.profile, ms, () => {
      this.work.closing(w);
      atEnd();
    });
  }

  /** Stops the profile's refresh or retry. */
  cancel(name: string): void {
    this.next.get(name)?.cancel();
    this.next.delete(name);
  }

  /** Stops the profile's closing announcements (revoke). */
  cancelWindow(name: string): void {
    this.closing.get(name)?.cancel();
    this.closing.delete(name);
  }

  close(): void {
    for (const t of [...this.next.values(), ...this.closing.values()]) t.cancel();
    this.next.clear();
    this.closing.clear();
  }

  private arm(map: Map<string, Timer>, name: string, ms: number, fn: () => void): void {
    map.get(name)?.cancel();
    const t = this.timers.after(ms, () => {
      if (map.get(name) === t) map.delete(name);
      fn();
    });
    map.set(name, t);
  }
}
