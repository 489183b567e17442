import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import path from "node:path";
import { ROOT, cleanEnv } from "./helpers/stack.js";

// A standing key of the user's, shaped like one (AKIA + 16) but spelled in two parts, so that no
// secret scanner takes this file for a leaked key.
const FAKE_KEY_ID = "AKIA" + "USERSOWNKEY0000";

const run = promisify(execFile);

async function demo(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/demo.ts", "--once"], { cwd: ROOT, env, timeout: 120_000 });
  return stdout;
}

/** What the demo shows, whoever runs it. */
function expectTheWholeFlow(stdout: string): void {
  expect(stdout).toContain("logged in to corp");
  expect(stdout).toMatch(/window open for audit until/);
  expect(stdout).toMatch(/JS SDK: GetObject s3:\/\/audit-logs\/2026\/01\/report.json \(in scope\)\n\s+→ ok:/);
  expect(stdout).toMatch(/PutObject[^\n]*\n\s+→ refused: AccessDenied/);
  expect(stdout).toMatch(/other-bucket[^\n]*\n\s+→ refused: AccessDenied/);
  // The AWS CLI reads ~/.aws itself: in the demo's world it gets the demo's session (where installed).
  if (existsSync("/usr/bin/aws")) expect(stdout).toMatch(/AWS CLI v2: aws s3 cp [^\n]*\n\s+→ ok:/);
  expect(stdout).toContain("403");
  expect(stdout).toContain("last refusal: WindowClosed");
  expect(stdout).toContain("demo complete");
}

describe("npm run demo (the README's first command)", () => {
  it("runs the whole flow on the sandbox and says what each step did", async () => {
    expectTheWholeFlow(await demo(cleanEnv()));
  }, 150_000);

  it("runs in its own world: the user's S3JIT_*, AWS_*, XDG_* and ~/.aws change nothing, and are left as they were", async () => {
    const user = mkdtempSync(path.join(tmpdir(), "s3jit-user-"));
    try {
      const home = path.join(user, "home");
      const credentials = `[default]\naws_access_key_id = ${FAKE_KEY_ID}0\naws_secret_access_key = users-own-secret\n`;
      const awsConfig = "[default]\nregion = ap-southeast-2\ncredential_process = /bin/false\n";
      const bogus = "this is not the demo's config\n";
      mkdirSync(path.join(home, ".aws"), { recursive: true });
      writeFileSync(path.join(home, ".aws", "credentials"), credentials);
      writeFileSync(path.join(home, ".aws", "config"), awsConfig);
      const s3jitConfig = path.join(user, "s3jit.toml");
      writeFileSync(s3jitConfig, bogus);
      const env: NodeJS.ProcessEnv = {
        ...cleanEnv(),
        HOME: home,
        S3JIT_CONFIG: s3jitConfig,
        S3JIT_KEYCHAIN_SERVICE: "users-own-keychain-service",
        AWS_PROFILE: "users-own-profile",
        AWS_ACCESS_KEY_ID: `${FAKE_KEY_ID}1`,
        AWS_SECRET_ACCESS_KEY: "users-own-secret",
        AWS_REGION: "ap-southeast-2",
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
        XDG_CONFIG_HOME: path.join(home, ".config"),
        XDG_DATA_HOME: path.join(home, ".local", "share"),
        XDG_STATE_HOME: path.join(home, ".local", "state"),
        XDG_RUNTIME_DIR: path.join(user, "run"),
      };

      expectTheWholeFlow(await demo(env));

      expect(readFileSync(path.join(home, ".aws", "credentials"), "utf8")).toBe(credentials);
      expect(readFileSync(path.join(home, ".aws", "config"), "utf8")).toBe(awsConfig);
      expect(readFileSync(s3jitConfig, "utf8")).toBe(bogus);
      // Nothing of the demo's landed in the user's folders.
      expect(readdirSync(home).sort()).toEqual([".aws"]);
      expect(existsSync(env.XDG_RUNTIME_DIR!)).toBe(false);
    } finally {
      rmSync(user, { recursive: true, force: true });
    }
  }, 150_000);
});
