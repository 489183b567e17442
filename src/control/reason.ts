/** The longest reason a grant takes: a sentence for the audit trail, not a document. */
export const MAX_REASON_LENGTH = 200;

// Control characters (newline and tab included), DEL, C1, and the format characters that reorder
// or hide text: a reason is shown on a terminal and in tray menus, where these would forge lines,
// run escape sequences or make the text read differently from what is stored.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;

/**
 * Why `reason` is not one line of printable text, or null when it is. The CLI asks before it
 * sends a grant and the daemon asks again, so the control API cannot be used to get around it.
 */
export function reasonProblem(reason: string): string | null {
  const bad = NOT_PRINTABLE.exec(reason);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    return `--reason must be one line of printable text: it holds U+${code} at position ${bad.index + 1} (a newline, tab, escape or other control character)`;
  }
  if ([...reason].length > MAX_REASON_LENGTH) return `--reason is at most ${MAX_REASON_LENGTH} characters (it has ${[...reason].length})`;
  return null;
}
