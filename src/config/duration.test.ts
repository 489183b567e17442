import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["30m", 1_800_000],
    ["2h", 7_200_000],
    ["1h30m", 5_400_000],
    ["1d", 86_400_000],
    ["1d12h", 129_600_000],
    ["1h0m", 3_600_000],
    [" 45m ", 2_700_000],
  ])("%j is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["30", /no unit/],
    ["-30m", /negative/],
    ["0m", /zero/],
    ["0h0m", /zero/],
    ["30x", /not a duration/],
    ["30ms", /not a duration/],
    ["1.5h", /whole numbers/],
    ["30m1h", /not a duration/],
    ["1h 30m", /not a duration/],
    ["30M", /not a duration/],
    ["", /empty/],
    ["99999999999999999999d", /too long/],
  ])("refuses %j, showing examples", (text, why) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
    expect(() => parseDuration(text)).toThrow(why);
    expect(() => parseDuration(text)).toThrow(/like 30s, 30m, 2h, 1h30m or 1d/);
  });
});

describe("formatDuration", () => {
  it.each([
    [5_400_000, "1h30m"],
    [30_000, "30s"],
    [86_400_000, "24h"],
    [129_600_000, "36h"],
    [3_661_000, "1h1m1s"],
    [89_999, "1m29s"],
    [999, "0s"],
    [0, "0s"],
    [-5_000, "0s"],
  ])("%d ms is %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("is undone by parseDuration for every whole number of seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 * 86_400 }), (seconds) => {
        expect(parseDuration(formatDuration(seconds * 1000))).toBe(seconds * 1000);
      }),
    );
  });
});
