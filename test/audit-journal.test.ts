import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startStack, type Stack } from "./helpers/stack.js";

/**
 * Under systemd the daemon's stdout is the unit's journal (systemd sets JOURNAL_STREAM): a log
 * pipeline reading the journal gets the very JSON lines of the audit log, secrets redacted alike.
 */
describe("under systemd, the journal carries the audit log's JSON", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ daemonEnv: { JOURNAL_STREAM: "8:424242" } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("every audit line appears on the daemon's stdout, the same text", async () => {
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    expect((await stack.cli(["grant", "audit", "--for", "10m", "--reason", "journal"])).code).toBe(0);
    // The grant starts the mint; credential-process waits for it (on a loaded machine the AWS
    // helper's start alone can outlast a stop sent right after the grant).
    expect((await stack.cli(["credential-process", "audit"])).code).toBe(0);
    await stack.stopDaemon("SIGTERM");
    const file = readFileSync(path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"), "utf8").trim().split("\n");
    const journal = stack
      .daemonLog()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    expect(file.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(["start", "login", "grant", "mint", "serve", "stop"]);
    expect(journal).toEqual(file);
  });

  it("without JOURNAL_STREAM (a terminal, launchd) stdout carries no audit lines", async () => {
    const plain = await startStack();
    try {
      await plain.stopDaemon("SIGTERM");
      expect(plain.daemonLog()).not.toMatch(/^\{/m);
    } finally {
      await plain.close();
    }
  });
});
