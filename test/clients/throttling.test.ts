import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../helpers/stack.js";

/**
 * Issue 19: the endpoint's 429 must carry a code the SDKs' retryers know. None reads Retry-After;
 * Go v2 retries a throttle only by its code (ThrottlingException is in every SDK's list), and
 * Java shows the message only when lower-case code and message are both there.
 */
describe("the refused-request rate limit, as an SDK reads it", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("429 says ThrottlingException, in both casings, with Retry-After", async () => {
    const env = await stack.clientEnv("audit");
    const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
    // More refusals than the limit (~50 a second), sent together so they land in one window.
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await fetch(url, { headers: { authorization: "not-the-token" } });
        return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, string> };
      }),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const a of limited) {
      expect(a.body).toMatchObject({ code: "ThrottlingException", Code: "ThrottlingException" });
      expect(a.body.message).toBe(a.body.Message);
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    }
  });
});
