import { describe, expect, it } from "vitest";
import type { StatusReport } from "../../src/control/contract.js";
import type { ControlClient } from "../../src/control/client.js";
import { reasonProblem } from "../../src/control/reason.js";
import { human as auditLine } from "../../src/cli/audit.js";
import { human as statusText } from "../../src/cli/status.js";
import { run as grant } from "../../src/cli/grant.js";
import { run as doctor } from "../../src/cli/doctor.js";
import { DaemonNotRunningError } from "../../src/errors.js";
import { waybar, xbar } from "../../src/cli/tray-formats.js";
import { UsageError } from "../../src/errors.js";
import type { Io } from "../../src/cli/io.js";

/**
 * Issue 15, bullet 5: text from users and configs reaches terminals and tray menus. A reason is
 * one line of printable text, and whatever is printed escapes control characters and markup.
 */

const NOW = Date.parse("2026-03-02T10:00:00Z");
const io: Io = { out() {}, err() {}, color: false, env: {} };
const FORGED = "INC-1\nprofile admin [scoped]: window open until 2099-01-01T00:00:00Z";
const OSC = "fix \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J\u202egnp.exe";

function report(reason: string, name = "audit"): StatusReport {
  return {
    daemon: { pid: 1, version: "0.1.0", port: 17810, config: "/c.toml", keychain: "os", startedAt: new Date(NOW - 60_000).toISOString(), warnings: [] },
    sso: { corp: { loggedIn: true, expiresAt: new Date(NOW + 3_600_000).toISOString(), loginPending: false } },
    profiles: {
      [name]: {
        mode: "scoped",
        grant: "explicit",
        window: { open: true, start: new Date(NOW - 60_000).toISOString(), end: new Date(NOW + 1_800_000).toISOString(), reason, who: "eve\x1b[31m" },
        session: null,
        lastRefusal: null,
        loginRequired: false,
      },
    },
  } as StatusReport;
}

/** No control character other than the lines' own newlines, and no bidi control. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("hostile text on terminals and in tray menus", () => {
  it("status: a newline in a reason cannot forge a line, escape sequences are shown, not run", () => {
    const out = statusText(report(FORGED), io, NOW);
    expect(out.split("\n").filter((l) => l.startsWith("profile "))).toHaveLength(1);
    expect(out).not.toMatch(CONTROL);
    expect(out).toContain("INC-1\\x0aprofile admin");
    const osc = statusText(report(OSC), io, NOW);
    expect(osc).not.toMatch(CONTROL);
    expect(osc).toContain("\\x1b]52;c;");
    expect(osc).toContain("\\u202e");
  });

  it("audit: a reason with ESC/OSC sequences is printed escaped", () => {
    const line = auditLine({ time: "2026-03-02T10:00:00.000Z", event: "grant", profile: "audit", reason: OSC, who: "x\x9by" });
    expect(line).not.toMatch(CONTROL);
    expect(line).not.toContain("\n");
    expect(line).toContain("\\u001b]52;c;");
    expect(line).toContain("\\x9b");
  });

  it("waybar: Pango markup in a reason is shown as text", () => {
    const out = JSON.parse(waybar(report('<span foreground="red">HACKED</span> & <b>x</b>'), NOW)) as { tooltip: string; text: string };
    expect(out.tooltip).not.toMatch(/[<>]/);
    expect(out.tooltip).toContain("&lt;span foreground=&quot;red&quot;&gt;HACKED&lt;/span&gt; &amp; &lt;b&gt;");
    expect(out.tooltip).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    const forged = JSON.parse(waybar(report(FORGED), NOW)) as { tooltip: string };
    expect(forged.tooltip.split("\n").filter((l) => l.includes("open"))).toHaveLength(1);
  });

  it("xbar: `|` in a reason cannot start parameters, a newline cannot add a menu line", () => {
    const out = xbar(report("fix | bash=/tmp/evil terminal=false\n---\nClick me | bash=/tmp/evil"), NOW, "/usr/local/bin/s3jit");
    const reasonLine = out.split("\n").find((l) => l.startsWith("--reason:"))!;
    expect(reasonLine).not.toContain("|");
    expect(out.split("\n").some((l) => l.startsWith("Click me"))).toBe(false);
    expect(out).not.toMatch(CONTROL);
  });

  it.each([
    ["a newline", "INC-1\nprofile admin: window open until 2099"],
    ["a carriage return", "INC-1\rforged"],
    ["ESC", "\x1b[2Jcleared"],
    ["a tab", "a\tb"],
    ["a C1 control", "a\x9bb"],
    ["a bidi override", "a\u202eb"],
    ["too long", "x".repeat(201)],
  ])("grant --reason with %s is refused before the daemon hears of it (usage error, exit 2)", async (_what, reason) => {
    expect(reasonProblem(reason)).not.toBeNull();
    let posted = false;
    const client = { socketPath: "", get: async () => ({}), post: async () => ((posted = true), {}) } as unknown as ControlClient;
    await expect(grant({ profile: "audit", reason }, { io, client })).rejects.toBeInstanceOf(UsageError);
    expect(posted).toBe(false);
  });

  it("doctor: a config path with escape sequences is shown escaped", async () => {
    const out: string[] = [];
    const client = { socketPath: "/nonexistent", get: async () => Promise.reject(new DaemonNotRunningError("/nonexistent")), post: async () => ({}) } as unknown as ControlClient;
    const printed: Io = { out: (t) => out.push(t), err: (t) => out.push(t), color: false, env: {} };
    await doctor({ json: false, configFile: "/nonexistent/\x1b]0;owned\x07\x1b[2J.toml" }, { io: printed, client, probeKeychain: async () => {} });
    const text = out.join("\n");
    expect(text).toContain("\\x1b]0;owned\\x07");
    expect(text).not.toMatch(CONTROL);
  });

  it("grant --reason: one line of printable text passes, non-Latin scripts included", () => {
    expect(reasonProblem("INC-1234: Prüfung der Logs — 監査 «2026»")).toBeNull();
  });
});
