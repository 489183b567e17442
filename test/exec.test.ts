import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { CLI, startStack, type Stack } from "./helpers/stack.js";

describe("s3jit exec PROFILE -- CMD", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("sets the endpoint variables and removes the ones that would shadow them", async () => {
    const r = await stack.cli(["exec", "audit", "--", "sh", "-c", 'echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI|${AWS_PROFILE-unset}|${AWS_ACCESS_KEY_ID-unset}|$AWS_CONTAINER_AUTHORIZATION_TOKEN"'], {
      env: { AWS_PROFILE: "prod", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE" },
    });
    expect(r.code).toBe(0);
    const [url, profile, key, token] = r.stdout.trim().split("|");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials\/audit$/);
    expect(profile).toBe("unset");
    expect(key).toBe("unset");
    expect(token!.length).toBeGreaterThanOrEqual(43);
  });

  it("passes the command's exit code through", async () => {
    expect((await stack.cli(["exec", "audit", "--", "sh", "-c", "exit 7"])).code).toBe(7);
  });

  it("forwards SIGTERM to the command and exits with its code", async () => {
    const child = spawn(process.execPath, [CLI, "exec", "audit", "--", "sh", "-c", 'trap "echo got-term; exit 42" TERM; echo ready; while true; do sleep 0.1; done'], {
      env: stack.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready")) resolve();
      }),
    );
    child.kill("SIGTERM");
    // "close", not "exit": exit can come before the last output is read.
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    expect(out).toContain("got-term");
    expect(code).toBe(42);
  });

  it("says so when the command does not exist (127)", async () => {
    const r = await stack.cli(["exec", "audit", "--", "/nonexistent/tool"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("command not found");
  });

  it("needs a command", async () => {
    const r = await stack.cli(["exec", "audit", "--"]);
    expect(r.code).toBe(2);
  });
});
