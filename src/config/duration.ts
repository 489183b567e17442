const UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
] as const;

// Largest unit first, each at most once: "1h30m" reads one way only, and "30m1h" is a typo worth
// reporting rather than guessing at.
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

const ALLOWED = "use a number and a unit (s, m, h, d), like 30s, 30m, 2h, 1h30m or 1d";

/**
 * A duration as people write it in config.toml and on the command line ("30m", "1h30m") in
 * milliseconds. Throws a RangeError whose message says what was wrong and what is allowed; callers
 * add where the text came from.
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (t === "") throw new RangeError(`a duration cannot be empty; ${ALLOWED}`);
  if (t.startsWith("-")) throw new RangeError(`"${text}" is negative; a duration must be longer than zero: ${ALLOWED}`);
  if (/^\d+$/.test(t)) throw new RangeError(`"${text}" has no unit; ${ALLOWED}`);
  if (/\d[.,]\d/.test(t)) throw new RangeError(`"${text}" is not a duration; use whole numbers (1h30m, not 1.5h): ${ALLOWED}`);
  const match = DURATION.exec(t);
  if (!match) throw new RangeError(`"${text}" is not a duration; ${ALLOWED}`);
  let ms = 0;
  UNITS.forEach(([, unitMs], i) => {
    const digits = match[i + 1];
    if (digits !== undefined) ms += Number(digits) * unitMs;
  });
  if (ms === 0) throw new RangeError(`"${text}" is zero; a duration must be longer than zero: ${ALLOWED}`);
  if (!Number.isSafeInteger(ms)) throw new RangeError(`"${text}" is too long to be a duration; ${ALLOWED}`);
  return ms;
}

/**
 * The inverse of parseDuration, to whole seconds (rounded down): 5400000 → "1h30m"; 0 or less →
 * "0s". Hours are not folded into days: "36h" reads more easily than "1d12h" next to AWS limits.
 */
export function formatDuration(ms: number): string {
  let rest = Math.floor(ms / 1000) * 1000;
  if (!(rest > 0)) return "0s";
  let out = "";
  for (const [unit, unitMs] of UNITS.slice(1)) {
    const n = Math.floor(rest / unitMs);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * unitMs;
  }
  return out;
}
