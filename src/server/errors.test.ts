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
import { ConfigError, GrantRefusedError, MintRefusedError, UsageError } from "../errors.js";
import { PolicyInvalidError } from "../policy/errors.js";
import { HoursInvalidError } from "../windows/hours.js";
import { errorBody, rateLimited, statusOf, toHttp, UNAUTHORIZED } from "./errors.js";

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
    [new S3jitError("ThrottlingException", "x"), 429, "ThrottlingException", 1],
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
    "a thrown string",
    null,
  ])("anything else is a generic 500 that quotes nothing: %s", (err) => {
    const e = toHttp(err);
    expect(e.status).toBe(500);
    expect(e.code).toBe("InternalError");
    expect(e.message).not.toMatch(/AKIA|wJalr|sessionToken|dbus|abc|string/);
  });

  it("an HTTP layer's own 4xx (statusCode) becomes a Malformed 400 without its text (it may echo the URL)", () => {
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

  // Issue 13: a known condition is never a 500. Each of these reached the endpoint as 500
  // InternalError (the config ones on every request of a profile whose config could not be served).
  it.each([
    [new S3jitError("PolicyTooLarge", "the session policy is 2300 characters"), 403],
    [new PolicyInvalidError("scope names no bucket"), 403],
    [new HoursInvalidError('hours "Mon 25:00-26:00": no such hour'), 403],
    [new ConfigError("/c.toml", "profile.x.hours", "bad"), 403],
    [new KeychainUnavailableError("locked"), 503],
    [new S3jitError("StateWriteFailed", "could not write /x/state.json"), 503],
    // STS refused the session policy for good (PackedPolicyTooLarge…): no retry helps.
    [new MintRefusedError("PackedPolicyTooLarge"), 403],
  ])("the endpoint never answers 500 for a known condition: %s", (err, status) => {
    expect(toHttp(err).status).toBe(status);
    expect(toHttp(err).code).toBe(err.code);
  });

  it("a keychain error's own text (it may quote D-Bus) stays off the endpoint", () => {
    const e = toHttp(new KeychainUnavailableError("dbus said: token=abc"));
    expect(e).toMatchObject({ status: 503, code: "KeychainUnavailable", retryAfter: 1 });
    expect(e.message).not.toMatch(/dbus|abc/);
  });

  it("429 carries ThrottlingException, the code SDKs retry (DESIGN.md §2)", () => {
    expect(rateLimited(2.5)).toMatchObject({ status: 429, code: "ThrottlingException", retryAfter: 3 });
  });
});

describe("statusOf: the one table for the endpoint and the control API", () => {
  it.each([
    [new OutsideHoursError("dev", "Mon-Fri 08:00-19:00"), 403],
    [new GrantRefusedError("too long"), 403],
    [new WindowClosedError("dev"), 403],
    [new UsageError("--for: bad"), 400],
    [new UnknownProfileError("x", []), 400],
    [new S3jitError("LoginDenied", "x"), 401],
    [new MintPendingError("dev"), 503],
  ])("%s → %i, and the endpoint agrees wherever it answers the code itself", (err, status) => {
    expect(statusOf(err.code)).toBe(status);
    if (err.code !== "UnknownProfile") expect(toHttp(err).status).toBe(status);
  });

  it("an unknown code is a 500", () => {
    expect(statusOf("SomethingNew")).toBe(500);
  });
});
