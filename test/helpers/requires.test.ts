import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { decide, optedOut } from "./requires.js";
import { ROOT, runProcess } from "./stack.js";

describe("decide: run, fail or skip as opted out", () => {
  it("runs when everything named is present, whatever else the run opts out of", () => {
    expect(decide({ keychain: undefined, boto3: undefined }, undefined)).toEqual({ run: true });
    expect(decide({ keychain: undefined }, "systemd-user")).toEqual({ run: true });
  });

  it("fails when something is missing: what, how to install it, how to opt out, by name", () => {
    const d = decide({ keychain: undefined, boto3: "/usr/bin/python3 cannot import boto3", "aws-cli-v2": "/usr/bin/aws is not installed" }, "systemd-user");
    expect(d.run).toBe(false);
    const message = (d as { fail: string }).fail;
    expect(message.split("\n")).toEqual([
      "needs boto3, which is missing here: /usr/bin/python3 cannot import boto3.",
      expect.stringMatching(/^ {2}install: apt-get install python3-boto3 \(or `bash scripts\/setup-system.sh`/),
      "needs aws-cli-v2, which is missing here: /usr/bin/aws is not installed.",
      expect.stringMatching(/^ {2}install: apt-get install awscli/),
      "  or opt out of these tests by name: S3JIT_TEST_WITHOUT=boto3,aws-cli-v2",
    ]);
  });

  it("skips what the run opts out of, present or not, and says so by name", () => {
    expect(decide({ boto3: "missing" }, "boto3")).toEqual({ run: false, skip: "opted out: S3JIT_TEST_WITHOUT=boto3" });
    expect(decide({ keychain: undefined, "systemd-user": undefined }, " systemd-user , keychain")).toEqual({ run: false, skip: "opted out: S3JIT_TEST_WITHOUT=keychain,systemd-user" });
  });

  it("refuses a name no suite requires (a typo would otherwise opt out of nothing, silently)", () => {
    expect(optedOut("")).toEqual([]);
    expect(optedOut("keychain,boto3")).toEqual(["keychain", "boto3"]);
    expect(() => optedOut("keychain,systemd")).toThrow(/S3JIT_TEST_WITHOUT names "systemd", which no suite requires; known: keychain, keyring-tools, aws-cli-v2, boto3, zsh, fish, systemd-analyze, systemd-user/);
  });
});

/**
 * The same decisions as vitest reports them, in a child run over requires.fixture.ts (a suite
 * needing a pretended-missing boto3), and what scripts/ci-summary.mjs makes of the report.
 */
describe("a suite whose need is missing, in a real vitest run", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "s3jit-requires-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, "vitest.config.mjs");
  writeFileSync(config, `export default { test: { include: ["test/helpers/requires.fixture.ts"], environment: "node" } };\n`);

  interface Report {
    testResults: Array<{ assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }> }>;
  }
  async function vitest(without: string | undefined): Promise<{ code: number; report: Report; file: string; env: NodeJS.ProcessEnv }> {
    const env: NodeJS.ProcessEnv = {};
    // The child is a run of its own: none of this worker's VITEST_* and no opt-out but the one given.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("VITEST") && k !== "S3JIT_TEST_WITHOUT") env[k] = v;
    if (without !== undefined) env.S3JIT_TEST_WITHOUT = without;
    const file = path.join(dir, `report-${without ?? "none"}.json`);
    const vitestBin = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");
    const r = await runProcess(process.execPath, [vitestBin, "run", "--root", ROOT, "--config", config, "--reporter=json", `--outputFile=${file}`], { env });
    return { code: r.code, report: JSON.parse(readFileSync(file, "utf8")) as Report, file, env };
  }
  const results = (report: Report) => report.testResults.flatMap((f) => f.assertionResults.map((t) => [t.fullName, t.status]));

  it("fails with the message when the run did not opt out", async () => {
    const { code, report } = await vitest(undefined);
    expect(code).toBe(1);
    expect(results(report)).toEqual([
      ["a suite that needs boto3 cannot run: needs boto3, which is missing here: /usr/bin/python3 cannot import boto3 (pretended).", "failed"],
      ["a test that needs systemd-analyze", "passed"],
    ]);
    const message = report.testResults[0]!.assertionResults[0]!.failureMessages.join("\n");
    expect(message).toContain("install: apt-get install python3-boto3");
    expect(message).toContain("or opt out of these tests by name: S3JIT_TEST_WITHOUT=boto3");
  }, 120_000);

  it("skips as opted out by name, and the summary says what the run opted out of", async () => {
    const { code, report, file, env } = await vitest("boto3");
    expect(code).toBe(0);
    expect(results(report)).toEqual([
      ["a suite that needs boto3 (opted out: S3JIT_TEST_WITHOUT=boto3) reads an object with boto3", "skipped"],
      ["a suite that needs boto3 (opted out: S3JIT_TEST_WITHOUT=boto3) lists a bucket with boto3", "skipped"],
      ["a test that needs systemd-analyze", "passed"],
    ]);
    const summary = await runProcess(process.execPath, [path.join(ROOT, "scripts", "ci-summary.mjs"), file, "Node x"], { env });
    expect(summary.stdout).toBe("Node x: opted out: boto3 (S3JIT_TEST_WITHOUT), 2 tests skipped\nNode x: 1 passed, 0 failed, 2 skipped\n");
  }, 120_000);
});
