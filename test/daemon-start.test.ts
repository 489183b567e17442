import { describe, expect, it } from "vitest";
import net from "node:net";
import { writeFileSync, unlinkSync } from "node:fs";
import { startStack } from "./helpers/stack.js";

describe("daemon start-up refusals say what is wrong and what to do", () => {
  it("a port in use names the port, the config file and the fix", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as net.AddressInfo).port;
    const stack = await startStack({ startDaemon: false });
    try {
      const text = (await import("node:fs")).readFileSync(stack.configFile, "utf8").replace("port = 0", `port = ${port}`);
      writeFileSync(stack.configFile, text);
      const r = await stack.cli(["daemon"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(r.stderr).toContain(stack.configFile);
    } finally {
      blocker.close();
      await stack.close();
    }
  });

  it("a missing config names where it looked", async () => {
    const stack = await startStack({ startDaemon: false });
    try {
      unlinkSync(stack.configFile);
      const r = await stack.cli(["daemon"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(stack.configFile);
    } finally {
      await stack.close();
    }
  });

  it("an invalid config names the file, the key and what is allowed", async () => {
    const stack = await startStack({ startDaemon: false, extraToml: `\n[profile.bad]\nsso = "corp"\naccount_id = "123456789012"\nsso_role = "R"\nregion = "eu-west-1"\nscope = ["logs/*"]\n` });
    try {
      const r = await stack.cli(["daemon"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(stack.configFile);
      expect(r.stderr).toContain("profile.bad.scope[0]");
    } finally {
      await stack.close();
    }
  });
});
