import { describe, expect, it } from "vitest";
import { currentRangeEnd, HoursInvalidError, parseHours } from "./hours.js";

/** The edges of allowed hours: the last valid minute, touching ranges, and "always" ending a week on. */

// Monday 2026-11-23, midnight UTC.
const MON = Date.UTC(2026, 10, 23);
const H = 3600_000;
const DAY = 24 * H;

describe("hours at their edges", () => {
  it.each(["Mon 08:59-09:00", "Mon 00:00-24:00", "Mon 23:00-23:59"])("accepts %s", (text) => {
    expect(() => parseHours(text)).not.toThrow();
  });

  it.each(["Mon 08:60-09:00", "Mon 08:00-25:00", "Mon 08:00-24:01"])("refuses %s, naming the time", (text) => {
    expect(() => parseHours(text)).toThrow(HoursInvalidError);
    expect(() => parseHours(text)).toThrow(/is not a time between 00:00 and 24:00/);
  });

  it("ranges that touch within a day are one range", () => {
    expect(currentRangeEnd("Mon 08:00-12:00, Mon 12:00-19:00", "UTC", MON + 10 * H)).toBe(MON + 19 * H);
  });

  it("ranges that touch across midnight are one range", () => {
    expect(currentRangeEnd("Mon 20:00-24:00, Tue 00:00-02:00", "UTC", MON + 21 * H)).toBe(MON + DAY + 2 * H);
  });

  it("hours that never end are reported as ending exactly a week on", () => {
    expect(currentRangeEnd("Mon-Sun 00:00-24:00", "UTC", MON)).toBe(MON + 7 * DAY);
  });

  it("a range ends at its end in a zone without clock changes, and outside it there is none", () => {
    expect(currentRangeEnd("Mon-Fri 08:00-19:00", "UTC", MON + 10 * H)).toBe(MON + 19 * H);
    expect(currentRangeEnd("Mon-Fri 08:00-19:00", "UTC", MON + 19 * H)).toBeNull();
    expect(currentRangeEnd("Mon-Fri 08:00-19:00", "Asia/Tokyo", MON + 1 * H)).toBe(MON + 10 * H);
  });
});
