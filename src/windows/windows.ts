import type { ProfileConfig } from "../config/types.js";
import { formatDuration } from "../config/duration.js";
import { GrantRefusedError, OutsideHoursError, S3jitError } from "../errors.js";
import { currentRangeEnd, describeHours, parseHours, type Hours } from "./hours.js";

/** An access window (epoch ms): the profile's credentials may be served in [start, end). */
export interface Window {
  profile: string;
  start: number;
  end: number;
  reason: string;
  who?: string;
  onDemand?: boolean;
  /**
   * When the window was last granted or extended (its start when absent). max_window counts from
   * here: an extension may reach now + max_window, past start + max_window.
   */
  grantedAt?: number;
}

export interface GrantRequest {
  /** Default: the profile's `window`. */
  durationMs?: number;
  reason?: string;
  who?: string;
}

/** The window rules a grant needs from a profile. */
export type WindowRules = Pick<ProfileConfig, "window" | "maxWindow" | "requireReason" | "grant" | "hours" | "timezone">;

/** The persisted state file holds something that is not a list of windows. */
export class WindowStateError extends S3jitError {
  constructor(message: string) {
    super("WindowStateInvalid", message);
  }
}

/**
 * The open access windows, one per profile. Time is always passed in (from the injected Clock),
 * so the rules here are plain functions of their inputs.
 */
export class WindowBook {
  private readonly windows = new Map<string, Window>();
  private readonly hoursCache = new Map<string, Hours>();

  /** The profile's window if it is open at `now`, else null. */
  get(profile: string, now: number): Window | null {
    const w = this.windows.get(profile);
    return w && w.start <= now && now < w.end ? { ...w } : null;
  }

  /**
   * Opens a window, or extends the open one. A grant asks for access until now + duration:
   * extending never shortens a window (asking for less than is left keeps the later end), and the
   * result never lies beyond now + max_window nor past the end of the current allowed-hours range.
   * Only when max_window or hours have been narrowed since the window opened can a grant end it
   * sooner: the limits of today's config win.
   */
  grant(profile: string, req: GrantRequest, cfg: WindowRules, now: number): Window {
    const duration = req.durationMs ?? cfg.window;
    if (!Number.isSafeInteger(duration) || duration < 1000) {
      throw new GrantRefusedError(`a window must last at least a second (asked: ${String(duration)} ms)`);
    }
    if (duration > cfg.maxWindow) {
      throw new GrantRefusedError(
        `profile "${profile}" allows windows of at most ${formatDuration(cfg.maxWindow)} (max_window); asked for ${formatDuration(duration)}: ask for less, or raise max_window in the config`,
      );
    }
    const reason = req.reason?.trim() ?? "";
    if (cfg.requireReason && reason === "") {
      throw new GrantRefusedError(`profile "${profile}" requires a reason (require_reason): run \`s3jit grant ${profile} --reason "…"\``);
    }
    const limit = Math.min(now + cfg.maxWindow, this.hoursLimit(profile, cfg, now));
    const open = this.get(profile, now);
    const end = Math.min(Math.max(open?.end ?? 0, now + duration), limit);
    const w: Window = { profile, start: open?.start ?? now, end, reason, grantedAt: now };
    if (req.who !== undefined) w.who = req.who;
    return this.put(w, now);
  }

  /** The window a request opens by itself, for profiles with grant = "on-demand". An open window is kept as it is. */
  onDemand(profile: string, cfg: WindowRules, now: number): Window {
    if (cfg.grant !== "on-demand") {
      throw new GrantRefusedError(`profile "${profile}" opens windows only by \`s3jit grant ${profile}\` (grant = "explicit")`);
    }
    const open = this.get(profile, now);
    if (open) return open;
    const end = Math.min(now + Math.min(cfg.window, cfg.maxWindow), this.hoursLimit(profile, cfg, now));
    return this.put({ profile, start: now, end, reason: "on-demand", onDemand: true, grantedAt: now }, now);
  }

  /** Closes the profile's window; returns it if one was open. */
  revoke(profile: string, now: number): Window | null {
    const open = this.get(profile, now);
    this.windows.delete(profile);
    this.dropExpired(now);
    return open;
  }

  /**
   * Brings the stored windows in line with today's config, for after a load or a config reload:
   * a window of a profile that is gone is closed, the others are cut to what today's max_window
   * allows from their last grant and to the end of the current allowed-hours range (closed outside
   * the hours). So only a config stricter than the one a window was granted under cuts it; an
   * unchanged one leaves an extended window as it is. Never extends one. Returns the profiles whose
   * window changed.
   */
  restrict(rulesFor: (profile: string) => WindowRules | undefined, now: number): string[] {
    const changed: string[] = [];
    for (const [profile, w] of [...this.windows]) {
      const cfg = rulesFor(profile);
      let end = 0;
      if (cfg) {
        try {
          end = Math.min(w.end, (w.grantedAt ?? w.start) + cfg.maxWindow, this.hoursLimit(profile, cfg, now));
        } catch (err) {
          if (!(err instanceof OutsideHoursError)) throw err;
        }
      }
      if (end === w.end) continue;
      changed.push(profile);
      if (end > now && end > w.start) this.windows.set(profile, { ...w, end });
      else this.windows.delete(profile);
    }
    return changed;
  }

  /** A copy to change and save before it replaces this one. */
  clone(): WindowBook {
    const copy = new WindowBook();
    for (const [profile, w] of this.windows) copy.windows.set(profile, { ...w });
    return copy;
  }

  /** Every stored window (for the state file). */
  toJSON(): Window[] {
    return [...this.windows.values()].map((w) => ({ ...w }));
  }

  /**
   * Replaces the book's contents with persisted windows: those that have ended (or claim to start
   * in the future) are dropped, the rest keep their end exactly. Throws WindowStateError, leaving
   * the book untouched, when `data` is not a list of windows.
   */
  fromJSON(data: unknown, now: number): void {
    if (!Array.isArray(data)) throw new WindowStateError("the windows are not a list");
    const loaded = data.map((w, i) => checkWindow(w, i));
    const profiles = new Set<string>();
    for (const w of loaded) {
      if (profiles.has(w.profile)) throw new WindowStateError(`profile "${w.profile}" has two windows`);
      profiles.add(w.profile);
    }
    this.windows.clear();
    for (const w of loaded) if (w.start <= now && now < w.end) this.windows.set(w.profile, w);
  }

  /** When the current allowed-hours range ends (Infinity without hours); throws outside the hours. */
  private hoursLimit(profile: string, cfg: WindowRules, now: number): number {
    if (cfg.hours === undefined) return Infinity;
    const timeZone = cfg.timezone ?? "UTC";
    let hours = this.hoursCache.get(cfg.hours);
    if (!hours) {
      hours = parseHours(cfg.hours);
      this.hoursCache.set(cfg.hours, hours);
    }
    const end = currentRangeEnd(hours, timeZone, now);
    if (end === null) throw new OutsideHoursError(profile, describeHours(cfg.hours, timeZone));
    return end;
  }

  private put(w: Window, now: number): Window {
    this.windows.set(w.profile, w);
    this.dropExpired(now);
    return { ...w };
  }

  private dropExpired(now: number): void {
    for (const [profile, w] of this.windows) if (w.end <= now) this.windows.delete(profile);
  }
}

function checkWindow(v: unknown, i: number): Window {
  const bad = (why: string): never => {
    throw new WindowStateError(`window ${i + 1} ${why}`);
  };
  if (typeof v !== "object" || v === null || Array.isArray(v)) return bad("is not an object");
  const o = v as Record<string, unknown>;
  const known = new Set(["profile", "start", "end", "reason", "who", "onDemand", "grantedAt"]);
  const extra = Object.keys(o).find((k) => !known.has(k));
  if (extra !== undefined) bad(`has an unknown field "${extra}"`);
  if (typeof o.profile !== "string" || o.profile === "") bad("has no profile");
  if (!Number.isSafeInteger(o.start) || !Number.isSafeInteger(o.end)) bad("has no start or end time");
  if ((o.end as number) <= (o.start as number)) bad("ends before it starts");
  if (typeof o.reason !== "string") bad("has no reason");
  if (o.who !== undefined && typeof o.who !== "string") bad("has a who that is not text");
  if (o.onDemand !== undefined && typeof o.onDemand !== "boolean") bad("has an onDemand that is not true or false");
  if (o.grantedAt !== undefined && (!Number.isSafeInteger(o.grantedAt) || (o.grantedAt as number) < (o.start as number) || (o.grantedAt as number) >= (o.end as number))) {
    bad("has a grant time outside the window");
  }
  const w: Window = { profile: o.profile as string, start: o.start as number, end: o.end as number, reason: o.reason as string };
  if (o.who !== undefined) w.who = o.who as string;
  if (o.onDemand !== undefined) w.onDemand = o.onDemand as boolean;
  if (o.grantedAt !== undefined) w.grantedAt = o.grantedAt as number;
  return w;
}
