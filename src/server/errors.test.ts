import { describe, expect, it } from "vitest";
import {
  LoginRequiredError,
  MintPendingError,
  OutsideHoursError,
  S3jitError,
  UnknownProfileError,
  UpstreamError,
  WindowClosedError,
  KeychainUnavailableError,
} from "../errors.js";
import { errorBody, toHttp, UNAUTHORIZED } from "./errors.js";

describe("toHttp", () => {
  it.each([
    [new WindowClosedError("dev"), 403, "WindowClosed", undefined],
    [new OutsideHoursError("dev", "Mon-Fri 08:00-19:00"), 403, "OutsideHours", undefined],
    [new LoginRequiredError("corp"), 403, "LoginRequired", undefined],
    [new UpstreamError("STS said Throttling", 3), 503, "UpstreamError", 3],
    [new UpstreamError("STS did not answer"), 503, "UpstreamError", 1],
    [new MintPendingError("dev"), 503, "MintPending", 1],
    [new S3jitError("Unauthorized", "x"), 401, "Unauthorized", undefined],
    [new S3jitError("RequestRefused", "x"), 403, "RequestRefused", undefined],
    [new S3jitError("Malformed", "x"), 400, "Malformed", undefined],
    [new S3jitError("MethodNotAllowed", "x"), 405, "MethodNotAllowed", undefined],
    [new S3jitError("RateLimited", "x"), 429, "RateLimited", 1],
  ])("%s → %i %s", (err, status, code, retryAfter) => {
    const e = toHttp(err);
    expect(e).toMatchObject({ status, code });
    expect(e.retryAfter).toBe(retryAfter);
    if (code !== "Unauthorized") expect(e.message).toBe(err.message);
  });

  it("answers an unknown profile exactly like a wrong token (no oracle for profile names)", () => {
    expect(toHttp(new UnknownProfileError("secret-project", ["dev", "prod"]))).toEqual(UNAUTHORIZED);
  });

  it.each([
    new Error("connect ECONNREFUSED, key AKIAEXAMPLE secret wJalrXUtnFEMI"),
    new TypeError("Cannot read properties of undefined (reading 'sessionToken')"),
    new KeychainUnavailableError("dbus said: token=abc"),
    "a thrown string",
    null,
  ])("anything else is a generic 500 that quotes nothing: %s", (err) => {
    const e = toHttp(err);
    expect(e.status).toBe(500);
    expect(e.code).toBe("InternalError");
    expect(e.message).not.toMatch(/AKIA|wJalr|sessionToken|dbus|abc|string/);
  });

  it("fastify's own 4xx become a Malformed 400 without fastify's text (it echoes the URL)", () => {
    const err = Object.assign(new Error("'/v1/credentials/%zzSECRET' is not a valid url component"), { statusCode: 400 });
    const e = toHttp(err);
    expect(e).toMatchObject({ status: 400, code: "Malformed" });
    expect(e.message).not.toContain("SECRET");
  });

  it("writes both spellings SDKs read", () => {
    expect(errorBody({ status: 403, code: "WindowClosed", message: "run grant" })).toEqual({
      code: "WindowClosed",
      message: "run grant",
      Code: "WindowClosed",
      Message: "run grant",
    });
  });
});
