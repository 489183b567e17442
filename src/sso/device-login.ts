import { S3jitError } from "../errors.js";
import { TokenPollFailure, type DeviceAuthorization } from "./api.js";
import { loginCancelled, loginExpired, type FlowInput, type LoginFlow } from "./flow.js";

export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Device code login (RFC 8628): the user opens a page on any device and checks the code; s3jit
 * polls CreateToken until the user approves, denies, or the code expires.
 */
export async function startDeviceLogin(input: FlowInput, sleep: Sleep = realSleep): Promise<LoginFlow> {
  const { api, cfg, registration, name } = input;
  const auth = await api.startDeviceAuthorization(cfg.region, registration, cfg.startUrl);
  return {
    prompt: {
      sso: name,
      flow: "device",
      url: auth.verificationUriComplete,
      verificationUri: auth.verificationUri,
      userCode: auth.userCode,
      expiresAt: new Date(auth.expiresAt).toISOString(),
    },
    done: poll(input, auth, sleep),
  };
}

async function poll(input: FlowInput, auth: DeviceAuthorization, sleep: Sleep): Promise<void> {
  const { api, cfg, registration, clock } = input;
  const expired = () => loginExpired("the login code expired before it was approved");
  let interval = auth.intervalSeconds;
  for (let first = true; ; first = false) {
    if (!first) await sleep(interval * 1000);
    if (input.cancelled()) throw loginCancelled();
    if (clock.now() >= auth.expiresAt) throw expired();
    try {
      const token = await api.createTokenFromDeviceCode(cfg.region, registration, auth.deviceCode);
      await input.complete(token);
      return;
    } catch (err) {
      if (!(err instanceof TokenPollFailure)) throw err;
      if (err.reason === "AuthorizationPending") continue;
      // RFC 8628 §3.5: on slow_down the interval grows by 5 seconds for this and later polls.
      if (err.reason === "SlowDown") {
        interval += 5;
        continue;
      }
      if (err.reason === "ExpiredToken") throw expired();
      throw new S3jitError("LoginDenied", "the login was denied in the browser");
    }
  }
}
