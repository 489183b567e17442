import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, statSync, existsSync } from "node:fs";
import path from "node:path";
import { startStack, type Stack } from "../helpers/stack.js";
import { run as init } from "../../src/cli/init.js";
import { controlClient } from "../../src/control/client.js";
import { loadConfig } from "../../src/config/load.js";

const FLAGS = ["--sso-start-url", "https://corp.awsapps.com/start", "--sso-region", "eu-west-1", "--profile", "logs", "--account", "123456789012", "--role", "S3JitBase", "--region", "eu-west-1", "--scope", "audit-logs/2026/", "--scope", "reports"];

describe("s3jit init", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("writes a commented 0600 config from flags that the daemon's loader accepts, and never overwrites one silently", async () => {
    const file = path.join(stack.dir, "new", "config.toml");
    const r = await stack.cli(["init", "--config", file, ...FLAGS]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cfg = loadConfig(file);
    expect(cfg.profiles.logs!.scope).toEqual([{ bucket: "audit-logs", prefix: "2026/" }, { bucket: "reports", prefix: "" }]);
    expect(readFileSync(file, "utf8")).toContain("# ");
    const again = await stack.cli(["init", "--config", file, ...FLAGS]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
    expect((await stack.cli(["init", "--config", file, "--force", ...FLAGS])).code).toBe(0);
    // The non-interactive form of the issue (no --region): the buckets' region is the instance's.
    const noRegion = FLAGS.filter((f, i) => f !== "--region" && FLAGS[i - 1] !== "--region").map((f) => (f === "eu-west-1" ? "us-east-2" : f));
    expect((await stack.cli(["init", "--config", file, "--force", ...noRegion])).code).toBe(0);
    expect(loadConfig(file).profiles.logs!.region).toBe("us-east-2");
  });

  it("refuses what the daemon would refuse, naming the key; without a terminal, missing flags are a usage error", async () => {
    const file = path.join(stack.dir, "bad", "config.toml");
    const bad = await stack.cli(["init", "--config", file, ...FLAGS.map((f) => (f === "123456789012" ? "12345" : f))]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("account_id");
    expect(existsSync(file)).toBe(false);
    const missing = await stack.cli(["init", "--config", file, "--sso-start-url", "https://corp.awsapps.com/start"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--sso-region is required");
  });

  it("on a terminal, offers the accounts and roles of the running daemon's login (ListAccounts / ListAccountRoles)", async () => {
    const file = path.join(stack.dir, "asked", "config.toml");
    const answers = ["https://corp.awsapps.com/start", "eu-west-1", "1", "1", "asked", "", "audit-logs/2026/"];
    const prompts: string[] = [];
    const err: string[] = [];
    const code = await init(
      { configFile: file, force: false, ssoName: "corp", scope: [] },
      {
        io: { out: () => {}, err: (t) => err.push(t), color: false, env: {} },
        client: controlClient(path.join(stack.env.XDG_RUNTIME_DIR!, "s3jit", "control.sock")),
        tty: true,
        ask: async (q) => {
          prompts.push(q);
          return answers.shift() ?? "";
        },
      },
    );
    expect(code).toBe(0);
    expect(err.join("\n")).toContain("1. 123456789012");
    expect(stack.sandbox.count("ListAccounts")).toBeGreaterThan(0);
    const cfg = loadConfig(file);
    expect(cfg.profiles.asked!.accountId).toBe("123456789012");
    expect(cfg.profiles.asked!.ssoRole).toBe("S3JitBase");
  });
});
