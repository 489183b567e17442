/**
 * Text that came from a user or a config (a grant's reason, a profile or SSO name, an error
 * message quoting either) reaches terminals and tray menus. A terminal obeys control characters
 * (ESC starts sequences that move the cursor, retitle the window or write the clipboard; CR and
 * LF forge lines of their own), bidi controls reorder what is shown, Pango renders markup in a
 * waybar tooltip and `|` starts xbar's parameters. Every such text goes through one of these.
 */

// C0 controls (tab and newline included: one field is one line), DEL, C1 controls, and the
// Unicode format characters that reorder or hide text (bidi embeddings, overrides, isolates, marks).
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

const escapeOne = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
};

/** One line a terminal shows as written: control and reordering characters as visible `\xNN` / `\uNNNN`. */
export function terminalText(s: string): string {
  return s.replace(UNSAFE, escapeOne);
}

const PANGO_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** terminalText, and Pango markup shown as text (waybar renders tooltips and text as markup). */
export function pangoText(s: string): string {
  return terminalText(s).replace(/[&<>"']/g, (c) => PANGO_ENTITIES[c]!);
}

/**
 * terminalText for an xbar / SwiftBar / Argos menu line: `|` would start the line's parameters,
 * so it becomes `¦`; Argos renders Pango markup, so that is shown as text too (its entities
 * decoded by Argos, shown literally by xbar: either way nothing is interpreted).
 */
export function xbarText(s: string): string {
  return terminalText(s)
    .replace(/\|/g, "¦")
    .replace(/[<>&]/g, (c) => ({ "<": "‹", ">": "›", "&": "+" })[c]!);
}
