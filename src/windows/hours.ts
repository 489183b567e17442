import { S3jitError } from "../errors.js";

/**
 * Allowed hours, as written in config.toml:
 *
 *   hours = "Mon-Fri 08:00-12:00, Mon-Fri 13:00-19:00, Sat 10:00-14:00"
 *
 * Ranges are separated by commas. Each is a day ("Sat") or a span of days ("Mon-Fri"; a span may
 * wrap past Sunday: "Fri-Mon"), then a start and an end time in 24-hour HH:MM on that day. "24:00"
 * ends a range at midnight; a range never crosses midnight itself, so write a night shift as
 * "Mon 22:00-24:00, Tue 00:00-06:00": ranges that touch or overlap count as one.
 *
 * Times are the wall clock of the profile's IANA time zone (Intl only, no time zone library), DST
 * included: a range holds while that clock shows a time inside it. So on the night the clock skips
 * 02:00-03:00 an end of 02:30 is the skip itself, and on the night it repeats 02:00-03:00 a time
 * in that hour comes twice, and so is inside (or outside) twice.
 */
export interface Hours {
  text: string;
  /** Per weekday (0 = Sunday), sorted non-overlapping [start, end) in minutes since midnight. */
  days: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const EXPECTED = 'expected comma-separated ranges like "Mon-Fri 08:00-19:00" or "Mon-Fri 08:00-12:00, Mon-Fri 13:00-19:00, Sat 10:00-14:00"';
const RANGE = /^([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$/;
const MINUTE = 60_000;
const DAY = 86_400_000;

export class HoursInvalidError extends S3jitError {
  constructor(message: string) {
    super("HoursInvalid", message);
  }
}

function invalid(text: string, why: string): never {
  throw new HoursInvalidError(`hours ${JSON.stringify(text)}: ${why}; ${EXPECTED}`);
}

function dayIndex(text: string, name: string): number {
  const i = DAY_NAMES.indexOf(name.toLowerCase());
  if (i === -1) invalid(text, `"${name}" is not a day (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)`);
  return i;
}

function minutes(text: string, hh: string, mm: string): number {
  const h = Number(hh);
  const m = Number(mm);
  if (m > 59 || h > 24 || (h === 24 && m !== 0)) invalid(text, `"${hh}:${mm}" is not a time between 00:00 and 24:00`);
  return h * 60 + m;
}

/** Parses an hours string; throws HoursInvalidError with the expected form. */
export function parseHours(text: string): Hours {
  const days: Array<Array<[number, number]>> = DAY_NAMES.map(() => []);
  const parts = text.split(",").map((p) => p.trim());
  if (parts.every((p) => p === "")) invalid(text, "it names no range");
  for (const part of parts) {
    if (part === "") invalid(text, "it has an empty range (two commas, or a comma at an end)");
    const m = RANGE.exec(part);
    if (!m) invalid(text, `"${part}" is not a range`);
    const [, first = "", last, sh = "", sm = "", eh = "", em = ""] = m;
    const from = dayIndex(text, first);
    const to = last === undefined ? from : dayIndex(text, last);
    const start = minutes(text, sh, sm);
    const end = minutes(text, eh, em);
    if (start >= end) {
      invalid(text, `"${part}" ends before it starts (a range may not cross midnight: split it at 24:00 into two days' ranges)`);
    }
    for (let d = from; ; d = (d + 1) % 7) {
      days[d]!.push([start, end]);
      if (d === to) break;
    }
  }
  return { text, days: days.map(merge) };
}

function merge(ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [s, e] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new HoursInvalidError(`${JSON.stringify(timeZone)} is not a time zone; use an IANA name like "Europe/Berlin" or "UTC"`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time `t` shows in `timeZone`, counted as if that clock were UTC (whole seconds). */
function wall(timeZone: string, t: number): number {
  const v: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(t)) if (p.type !== "literal") v[p.type] = Number(p.value);
  // Some ICU versions still say 24 for midnight even with h23.
  return Date.UTC(v.year!, v.month! - 1, v.day!, v.hour! % 24, v.minute!, v.second!);
}

/** How far `timeZone`'s clock is ahead of UTC at `t`. */
function offsetAt(timeZone: string, t: number): number {
  const s = Math.floor(t / 1000) * 1000;
  return wall(timeZone, s) - s;
}

/** The first whole second in (from, to] at which the clock's offset differs from the one at `from`, or null. */
function clockChange(timeZone: string, from: number, to: number): number | null {
  const before = offsetAt(timeZone, from);
  // A week holds at most one change in every zone there is, so equal ends mean none between.
  if (offsetAt(timeZone, to) === before) return null;
  let lo = Math.floor(from / 1000);
  let hi = Math.ceil(to / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(timeZone, mid * 1000) === before) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}

function covering(hours: Hours, day: number, minute: number): readonly [number, number] | undefined {
  const weekday = new Date(day).getUTCDay();
  return hours.days[weekday]!.find(([s, e]) => s <= minute && minute < e);
}

/**
 * Where the wall clock leaves the hours if it runs on from `local` without a change of offset
 * (wall time counted as UTC); null when `local` is outside them.
 */
function wallRangeEnd(hours: Hours, local: number): number | null {
  let day = Math.floor(local / DAY) * DAY;
  const range = covering(hours, day, (local - day) / MINUTE);
  if (!range) return null;
  let end = day + range[1] * MINUTE;
  // Ranges that touch across midnight are one; a week of them never ends.
  while (end - local < 7 * DAY) {
    day = Math.floor(end / DAY) * DAY;
    const next = covering(hours, day, (end - day) / MINUTE);
    if (!next) break;
    end = day + next[1] * MINUTE;
  }
  return end;
}

/**
 * When the allowed range that `now` falls in ends (epoch ms): the first instant at which the
 * zone's clock shows a time outside the hours. Null when `now` is outside them. A range that
 * never ends (every day 00:00-24:00) is reported as ending about a week on.
 */
export function currentRangeEnd(hours: Hours | string, timeZone: string, now: number): number | null {
  const h = typeof hours === "string" ? parseHours(hours) : hours;
  let from = now;
  // Each turn runs the clock on to the end of the range, or to a DST change on the way: a change
  // forward may skip the end (the range ends at the change) or land in the next range, a change
  // back may put the clock before the range's start (then it ends there too).
  for (let turn = 0; turn < 4; turn++) {
    const offset = offsetAt(timeZone, from);
    const wallEnd = wallRangeEnd(h, wall(timeZone, from));
    if (wallEnd === null) return turn === 0 ? null : from;
    const end = wallEnd - offset;
    const change = clockChange(timeZone, from, end);
    // A change exactly at the end still counts: a clock going back there shows an earlier time,
    // inside the range again (the repeated hour belongs to it), so the run goes on from it.
    if (change === null || change > end) return end;
    from = change;
  }
  return from;
}

/** "Mon-Fri 08:00-19:00 Europe/Berlin": how errors name the hours. */
export function describeHours(hours: string, timeZone: string): string {
  return `${hours} (${timeZone})`;
}
