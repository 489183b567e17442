import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { waitForLine } from "./helpers/wait.js";
import { startStack, type Stack } from "./helpers/stack.js";

/**
 * The organisation's managed policy against the real daemon and CLI. The system file
 * (/etc/s3jit/policy.toml) is absent on test machines, so S3JIT_MANAGED_POLICY names the file:
 * src/config/managed.test.ts proves that variable is ignored wherever the system file exists.
 */
describe("a managed policy bounds the user's config", () => {
  let stack: Stack;
  let policy: string;
  beforeAll(async () => {
    stack = await startStack({ startDaemon: false });
    policy = path.join(stack.dir, "policy.toml");
    stack.env.S3JIT_MANAGED_POLICY = policy;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("a config beyond it does not start the daemon: the error names both files, the key, the value and the ceiling", async () => {
    writeFileSync(policy, `[profiles]\nmax_window = "1h"\n`);
    const r = await stack.cli(["daemon"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(stack.configFile);
    expect(r.stderr).toContain(policy);
    expect(r.stderr).toContain("profile.audit.max_window");
    expect(r.stderr).toContain('"2h" is above the ceiling "1h"');
  });

  it("within it, the daemon runs and status --json shows what is in force; SIGHUP re-reads the managed file", async () => {
    writeFileSync(policy, `[profiles]\nmax_window = "4h"\nrequire_reason = true\n[daemon]\naudit_retention = "90d"\n`);
    await stack.startDaemon();
    const st = JSON.parse((await stack.cli(["status", "--json"])).stdout) as { daemon: { managedPolicy?: { file: string; caps: object } } };
    expect(st.daemon.managedPolicy).toMatchObject({ file: policy, caps: { maxWindow: "4h", requireReason: true, auditRetention: "2160h" } });
    // Forced on by the policy, though the user's config does not ask for reasons.
    const noReason = await stack.cli(["grant", "audit", "--for", "10m"]);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toMatch(/reason/);

    // The organisation tightens the policy: a reload refuses the user's config and keeps the running one.
    writeFileSync(policy, `[profiles]\nmax_window = "1h"\n`);
    await reload(stack);
    // The daemon's log line comes before its audit line reaches the file (the audit writes
    // asynchronously): wait for the line itself.
    await auditLine(stack, /"what":"reload refused".*profile\.audit\.max_window/);
    // ... and relaxes it again: the next reload takes the config, and grants without a reason work.
    writeFileSync(policy, `[profiles]\nmax_window = "4h"\n`);
    await reload(stack);
    const g = await stack.cli(["grant", "audit", "--for", "10m"]);
    expect(g.code, g.stderr).toBe(0);
  });
});

/** Resolves once the audit log holds a line matching `re` (woken by the file's changes). */
async function auditLine(stack: Stack, re: RegExp): Promise<void> {
  await waitForLine(path.join(stack.env.XDG_STATE_HOME!, "s3jit", "audit.log"), re);
}

/** SIGHUP, then wait for the daemon's own word that it reloaded or refused (its log line). */
async function reload(stack: Stack): Promise<void> {
  const before = stack.daemonLog().length;
  stack.daemon!.kill("SIGHUP");
  await new Promise<void>((resolve, reject) => {
    const child = stack.daemon!;
    const check = () => {
      if (/reloaded|refused/.test(stack.daemonLog().slice(before))) {
        child.stderr!.off("data", check);
        child.stdout!.off("data", check);
        resolve();
      }
    };
    child.stderr!.on("data", check);
    child.stdout!.on("data", check);
    child.once("exit", () => reject(new Error(`daemon exited: ${stack.daemonLog()}`)));
    check();
  });
}
