import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../helpers/stack.js";
import { requires } from "../helpers/requires.js";
import { AWS_CLI, FIXTURES, fixtureResult, IN_SCOPE, lastS3Signer, PYTHON, runProcess, seeded, startClientStack, type ClientStack, type Proc } from "./harness.js";
import { laptop, SHADOW_SOURCES, STANDING_KEY, USER_REGION, type Laptop } from "./laptop.js";

/**
 * Issue 19: on a lived-in laptop every client gets s3jit's session. Each laptop has [default]
 * static keys in ~/.aws/credentials and one more source that comes before the container provider
 * (see laptop.ts); the three clients we run for real, started by `s3jit exec` and from a shell
 * after `eval "$(s3jit env audit)"`, must sign with the daemon's ASIA… key (the sandbox S3 names
 * the key it saw) while the user's region, addressing style and retries still apply.
 */

const [awsCli, boto3] = await Promise.all([requires("aws-cli-v2"), requires("boto3")]);
const JS = path.join(FIXTURES, "js-s3.mjs");
const BOTO3 = path.join(FIXTURES, "boto3_s3.py");

type Mode = "exec" | "env";

/** Runs a program as the user would under s3jit: `s3jit exec audit -- …`, or in a shell after `eval "$(s3jit env audit)"`. */
function under(mode: Mode, env: NodeJS.ProcessEnv, cmd: string, args: string[]): Promise<Proc> {
  if (mode === "exec") return runProcess(process.execPath, [CLI, "exec", "audit", "--", cmd, ...args], { env });
  const script = 'vars=$("$0" "$1" env audit) || exit 90; eval "$vars"; shift; exec "$@"';
  return runProcess("/bin/sh", ["-c", script, process.execPath, CLI, cmd, ...args], { env });
}

describe("a lived-in laptop: nothing shadows s3jit's session", () => {
  let cs: ClientStack;
  let served: string;
  beforeAll(async () => {
    // The buckets live in the user's region, not in the s3jit profile's (eu-west-1): a client
    // that signs for eu-west-1 is refused, so a read proves the user's region reached it.
    // Each laptop below is a lived-in HOME of its own; the stack's user has none, so no AWS_PROFILE of its reaches them.
    cs = await startClientStack({ aws: "none", sandbox: { s3: { region: USER_REGION } } });
    served = await cs.servedAccessKeyId();
  });
  afterAll(async () => {
    await cs?.close();
  });

  it("the daemon serves an ASIA… session key", () => {
    expect(served).toMatch(/^ASIA/);
  });

  describe.each(SHADOW_SOURCES.map((s, i) => ({ ...s, i })))("$name", (source) => {
    let home: Laptop;
    beforeAll(() => {
      const dir = path.join(cs.stack.dir, `laptop-${source.i}`);
      mkdirSync(dir);
      // The user's shell: s3jit's folders, the sandbox as S3 (the JS SDK and the boto3 fixture read it).
      home = laptop(dir, source, { ...cs.stack.env, AWS_ENDPOINT_URL_S3: cs.stack.sandbox.url });
    });

    const expectSessionSigned = () => {
      const signer = lastS3Signer(cs.stack);
      expect(signer).not.toContain("laptop");
      expect(signer).toBe(served);
    };

    it.each<Mode>(["exec", "env"])("JS SDK v3 under %s", async (mode) => {
      const get = await under(mode, home.env, process.execPath, [JS, "get", IN_SCOPE.bucket, IN_SCOPE.key]);
      expect(fixtureResult(get), get.stderr).toMatchObject({ ok: true, body: seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key) });
      expectSessionSigned();
      if (mode === "exec") expect(get.stderr).toBe("");
      const who = await under(mode, home.env, process.execPath, [JS, "whoami"]);
      expect(fixtureResult(who)).toMatchObject({ ok: true, accessKeyId: served, region: USER_REGION, maxAttempts: 4 });
    });

    boto3.it("boto3 under exec and env", async () => {
      for (const mode of ["exec", "env"] as Mode[]) {
        const get = await under(mode, home.env, PYTHON, [BOTO3, "get", IN_SCOPE.bucket, IN_SCOPE.key]);
        expect(fixtureResult(get), `${mode}: ${get.stderr}`).toMatchObject({ ok: true, body: seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key) });
        expectSessionSigned();
        const who = await under(mode, home.env, PYTHON, [BOTO3, "whoami"]);
        expect(fixtureResult(who), mode).toMatchObject({
          ok: true,
          accessKeyId: served,
          region: USER_REGION,
          s3: { addressing_style: "path" },
          retries: { mode: "standard", total_max_attempts: 4 },
        });
      }
    }, 60_000);

    awsCli.it("AWS CLI v2 under exec and env", async () => {
      for (const mode of ["exec", "env"] as Mode[]) {
        const cp = await under(mode, home.env, AWS_CLI, ["--endpoint-url", cs.stack.sandbox.url, "s3", "cp", `s3://${IN_SCOPE.bucket}/${IN_SCOPE.key}`, "-"]);
        expect(cp.code, `${mode}: ${cp.stderr}`).toBe(0);
        expect(cp.stdout).toBe(seeded(cs.stack, IN_SCOPE.bucket, IN_SCOPE.key));
        expectSessionSigned();
        // What the CLI resolved and from where: the key from the container provider, the region from a config file.
        const list = await under(mode, home.env, AWS_CLI, ["configure", "list"]);
        expect(list.code, `${mode}: ${list.stderr}`).toBe(0);
        expect(list.stdout).toMatch(new RegExp(`access_key +\\*+${served.slice(-4)} +container-role`));
        expect(list.stdout).toMatch(new RegExp(`region +${USER_REGION} +config-file`));
        expect(list.stdout).not.toContain(STANDING_KEY.slice(-4));
      }
    }, 90_000);
  });
});
