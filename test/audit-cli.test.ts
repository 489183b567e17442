import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchCredentials, startStack, type Stack } from "./helpers/stack.js";
import { waitForLine } from "./helpers/wait.js";

describe("s3jit audit", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    expect((await stack.cli(["login", "--no-browser"])).code).toBe(0);
    expect((await stack.cli(["grant", "audit", "--for", "10m", "--reason", "INC-77 read logs"])).code).toBe(0);
    const env = await stack.clientEnv("audit");
    expect((await fetchCredentials(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, env.AWS_CONTAINER_AUTHORIZATION_TOKEN!)).status).toBe(200);
    await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, { headers: { authorization: "wrong" } });
    // The requesting process is looked up after the answer (best effort, while the connection
    // lives: fetch keeps it open a few seconds); wait for that line before stopping.
    await waitForLine(`${stack.env.XDG_STATE_HOME}/s3jit/audit.log`, /"event":"serve".*"pid"/);
    await stack.stopDaemon(); // flushes the log
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("prints the trail readably: who was granted what and why, what was minted and handed to which process", async () => {
    const r = await stack.cli(["audit"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/grant\s+profile=audit reason="INC-77 read logs" who=\S+ start=\S+ end=\S+/);
    expect(r.stdout).toMatch(/mint\s+profile=audit expiration=\S+ accessKeyId=ASIA\w+ .*policyHash=[0-9a-f]{64}/);
    expect(r.stdout).toMatch(/serve\s+profile=audit .*"pid":\d+/);
    expect(r.stdout).toMatch(/refuse\s+profile=audit code=Unauthorized/);
  });

  it("--json prints the raw lines; --since filters by time; a bad --since is a usage error", async () => {
    const json = await stack.cli(["audit", "--json", "--since", "1h"]);
    const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string });
    expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(["start", "login", "grant", "mint", "serve", "refuse", "stop"]));
    expect((await stack.cli(["audit", "--since", "yesterday"])).code).toBe(2);
  });
});
