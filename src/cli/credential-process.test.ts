import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MINT_WAIT_MS, run } from "./credential-process.js";
import { controlClient } from "../control/client.js";
import { S3jitError } from "../errors.js";

/**
 * credential_process callers do not retry a failed run, so a mint still under way (the daemon's
 * 503 MintPending after the ~800 ms a request may wait) is asked again until it is done, within a
 * bound; every other refusal ends the run at once. A stand-in daemon on the control socket answers
 * as the real one does; the wait runs on a manual clock.
 */
describe("credential-process waits for a mint under way, and for nothing else", () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise((r) => server?.close(r) ?? r(undefined));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const SERVED = { AccessKeyId: "ASIA-standin-key-id", SecretAccessKey: "standin-secret", Token: "standin-token", Expiration: "2026-11-29T18:00:00Z" };
  const PENDING = { status: 503, body: { code: "MintPending", message: 'credentials for "audit" are being minted; retry in a second' } };

  /** Answers each GET with the next of `answers` (the last one repeats); counts the asks. */
  async function standInDaemon(answers: { status: number; body: unknown }[]): Promise<{ socket: string; asks: () => number }> {
    dir = mkdtempSync(path.join(tmpdir(), "s3jit-cp-"));
    const socket = path.join(dir, "control.sock");
    let asks = 0;
    server = createServer((req, res) => {
      const a = answers[Math.min(asks++, answers.length - 1)]!;
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(JSON.stringify(a.body));
    });
    await new Promise<void>((r) => server!.listen(socket, r));
    return { socket, asks: () => asks };
  }

  function deps(socket: string) {
    let t = 0;
    const out: string[] = [];
    const waits: number[] = [];
    return {
      out,
      waits,
      d: {
        io: { out: (s: string) => out.push(s), err: () => {}, color: false, env: {} },
        client: controlClient(socket),
        now: () => t,
        sleep: async (ms: number) => {
          waits.push(ms);
          t += ms;
        },
      },
    };
  }

  it("asks again while the daemon says MintPending, then prints the Version 1 answer", async () => {
    const daemon = await standInDaemon([PENDING, PENDING, PENDING, { status: 200, body: SERVED }]);
    const { d, out, waits } = deps(daemon.socket);
    expect(await run({ profile: "audit" }, d)).toBe(0);
    expect(daemon.asks()).toBe(4);
    expect(waits).toEqual([200, 200, 200]);
    expect(JSON.parse(out.join(""))).toEqual({ Version: 1, AccessKeyId: SERVED.AccessKeyId, SecretAccessKey: SERVED.SecretAccessKey, SessionToken: SERVED.Token, Expiration: SERVED.Expiration });
  });

  it(`gives up with MintPending once ${MINT_WAIT_MS / 1000} s have passed`, async () => {
    const daemon = await standInDaemon([PENDING]);
    const { d, out, waits } = deps(daemon.socket);
    const err = await run({ profile: "audit" }, d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3jitError);
    expect((err as S3jitError).code).toBe("MintPending");
    expect(waits.reduce((a, b) => a + b, 0)).toBe(MINT_WAIT_MS);
    expect(daemon.asks()).toBe(MINT_WAIT_MS / 200 + 1);
    expect(out).toEqual([]);
  });

  it.each([
    [403, "WindowClosed"],
    [401, "LoginRequired"],
    [502, "UpstreamError"],
  ])("a %i %s is final: one ask, no wait", async (status, code) => {
    const daemon = await standInDaemon([{ status, body: { code, message: "refused" } }, { status: 200, body: SERVED }]);
    const { d, waits } = deps(daemon.socket);
    const err = await run({ profile: "audit" }, d).catch((e: unknown) => e);
    expect((err as S3jitError).code).toBe(code);
    expect(daemon.asks()).toBe(1);
    expect(waits).toEqual([]);
  });
});
