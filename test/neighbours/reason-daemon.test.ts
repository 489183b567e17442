import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { controlClient } from "../../src/control/client.js";
import { startStack, type Stack } from "../helpers/stack.js";

/**
 * Issue 15, bullet 5, the daemon's side: the control API is an API of its own, so a reason that is
 * not one line of printable text is refused there too, not only by the CLI.
 */
describe("the daemon refuses a grant whose reason is not one line of printable text", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("answers a forged line through the control socket with a usage error, and opens nothing", async () => {
    const client = controlClient(path.join(stack.env.XDG_RUNTIME_DIR!, "s3jit", "control.sock"));
    await expect(client.post("/v1/grant", { profile: "audit", reason: "INC-1\nprofile admin: window open until 2099" })).rejects.toMatchObject({
      code: "Usage",
      message: expect.stringContaining("one line of printable text"),
    });
    const cli = await stack.cli(["grant", "audit", "--reason", "fix \x1b[2J"]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain("one line of printable text");
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as { profiles: { audit: { window: unknown } } };
    expect(st.profiles.audit.window).toBeNull();
  });
});
