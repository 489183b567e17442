import { describe, expect, it } from "vitest";
import type { StatusReport } from "../control/contract.js";
import { trayClass, waybar, waybarDaemonDown, xbar, xbarDaemonDown } from "./tray-formats.js";

const NOW = Date.parse("2026-03-02T10:00:00Z");
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();
type Profile = StatusReport["profiles"][string];

function report(profiles: Record<string, Partial<Profile>>, sso: StatusReport["sso"] = { corp: { loggedIn: true, expiresAt: at(480), loginPending: false } }): StatusReport {
  const full: StatusReport["profiles"] = {};
  for (const [name, p] of Object.entries(profiles)) {
    full[name] = { mode: "scoped", grant: "explicit", window: null, session: null, lastRefusal: null, loginRequired: false, ...p };
  }
  return { daemon: { pid: 4242, version: "0.1.0", port: 17810, config: "/c.toml", keychain: "os", startedAt: at(-60), warnings: [] }, sso, profiles: full };
}
const win = (endMin: number, reason = "INC-1234") => ({ open: true, start: at(-10), end: at(endMin), reason });
const loggedOut = { corp: { loggedIn: false, expiresAt: null, loginPending: false } };

describe("trayClass and waybar", () => {
  it.each([
    ["nothing open", "closed", "S3 closed", report({ audit: {} })],
    ["a window open", "open", "S3 audit 42m", report({ audit: { window: win(42) } })],
    ["long window", "open", "S3 audit 2h05m", report({ audit: { window: win(125) } })],
    ["under 5 minutes left", "closing-soon", "S3 audit 4m, reports 1h30m", report({ audit: { window: win(4) }, reports: { window: win(90) } })],
    ["under a minute", "closing-soon", "S3 audit &lt;1m", report({ audit: { window: win(0.5) } })],
    ["window whose end has passed", "closed", "S3 closed", report({ audit: { window: win(-1) } })],
    ["login needed, window open", "login-required", "S3 login! audit 30m", report({ audit: { window: win(30), loginRequired: true } }, loggedOut)],
    ["login needed, nothing open", "login-required", "S3 login!", report({ audit: { loginRequired: true } }, loggedOut)],
  ])("%s → class %s, text %j", (_name, cls, text, st) => {
    expect(trayClass(st, NOW)).toBe(cls);
    const out = JSON.parse(waybar(st, NOW)) as Record<string, string>;
    expect(out).toMatchObject({ text, class: cls, alt: cls });
  });

  it("tooltip lists every profile with reason and the login state", () => {
    const st = report({ audit: { window: win(42) }, reports: {} });
    expect(JSON.parse(waybar(st, NOW)).tooltip).toBe(
      `audit: open, 42m left (until ${at(42)}) — INC-1234\nreports: closed\nsso corp: logged in until ${at(480)}`,
    );
  });
});

describe("xbar", () => {
  const CLI = "/Users/me/Library/Application Support/xbar/plugins/s3jit.1m.sh";
  const Q = `"${CLI}"`;

  it("open window: time left, revoke and extend actions", () => {
    const out = xbar(report({ audit: { window: win(42), session: { expiration: at(42) } } }), NOW, CLI);
    expect(out.split("\n")).toEqual([
      "S3 audit 42m",
      "---",
      `audit: open, 42m left (until ${at(42)})`,
      "--reason: INC-1234",
      `--session valid until ${at(42)}`,
      `Extend audit (default window) | bash=${Q} param1=grant param2=audit terminal=false refresh=true`,
      `Revoke audit | bash=${Q} param1=revoke param2=audit terminal=false refresh=true`,
      "---",
      `sso corp: logged in until ${at(480)}`,
      "---",
      "s3jit 0.1.0, pid 4242, 127.0.0.1:17810",
      "Refresh | refresh=true",
    ]);
  });

  it("closed window offers grant; a needed login offers a terminal login", () => {
    const out = xbar(report({ audit: { loginRequired: true, lastRefusal: { code: "LoginRequired", at: at(-1) } } }, loggedOut), NOW, "/usr/local/bin/s3jit");
    expect(out).toContain("audit: closed, login required | color=red");
    expect(out).toContain(`--last refusal: LoginRequired at ${at(-1)}`);
    expect(out).toContain("Grant audit (default window) | bash=/usr/local/bin/s3jit param1=grant param2=audit terminal=false refresh=true");
    expect(out).not.toContain("Revoke");
    expect(out).toContain("Log in (corp) | bash=/usr/local/bin/s3jit param1=login param2=corp terminal=true refresh=true");
  });

  it("closing soon is orange; no login action while one is pending", () => {
    const out = xbar(report({ audit: { window: win(3) } }, { corp: { loggedIn: false, expiresAt: null, loginPending: true } }), NOW, "s3jit");
    expect(out).toContain(`audit: open, 3m left (until ${at(3)}) | color=orange`);
    expect(out).toContain("sso corp: login in progress");
    expect(out).not.toContain("param1=login");
  });

  it("a reason cannot break the menu (newline, |, markup)", () => {
    const out = xbar(report({ audit: { window: win(42, "fix | prod\n---\n<b>x</b> & y") } }), NOW, "s3jit");
    expect(out).toContain("--reason: fix ¦ prod\\x0a---\\x0a‹b›x‹/b› + y");
    expect(out.split("\n").filter((l) => l === "---")).toHaveLength(3); // menu start, logins, footer: none from the reason
  });
});

describe("daemon not running", () => {
  it("waybar shows a stopped class and xbar offers the service install", () => {
    expect(JSON.parse(waybarDaemonDown())).toMatchObject({ text: "S3 off", class: "stopped" });
    expect(xbarDaemonDown("/usr/local/bin/s3jit").split("\n")).toContain(
      "Start it at every login (s3jit service install) | bash=/usr/local/bin/s3jit param1=service param2=install terminal=true refresh=true",
    );
  });
});
