import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { ROOT, cleanEnv } from "./helpers/stack.js";

const run = promisify(execFile);

describe("npm run demo (the README's first command)", () => {
  it("runs the whole flow on the sandbox and says what each step did", async () => {
    const { stdout } = await run(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/demo.ts", "--once"], {
      cwd: ROOT,
      env: cleanEnv(),
      timeout: 120_000,
    });
    expect(stdout).toContain("logged in to corp");
    expect(stdout).toMatch(/window open for audit until/);
    expect(stdout).toMatch(/JS SDK: GetObject s3:\/\/audit-logs\/2026\/01\/report.json \(in scope\)\n\s+→ ok:/);
    expect(stdout).toMatch(/PutObject[^\n]*\n\s+→ refused: AccessDenied/);
    expect(stdout).toMatch(/other-bucket[^\n]*\n\s+→ refused: AccessDenied/);
    expect(stdout).toContain("403");
    expect(stdout).toContain("last refusal: WindowClosed");
    expect(stdout).toContain("demo complete");
  }, 150_000);
});
