import { setTimeout as tick } from "node:timers/promises";
import { ManualClock, type Clock } from "../../src/clock.js";
import type { SsoConfig } from "../../src/config/types.js";
import { AwsSsoApi } from "../../src/sso/api.js";
import { SsoLogins, type LoginVault } from "../../src/sso/logins.js";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox/server.js";

/** A keychain stand-in with expiry, as the daemon's secret facade behaves. */
export function memoryVault(): LoginVault & { items: Map<string, { value: unknown; expiresAt: number }> } {
  const items = new Map<string, { value: unknown; expiresAt: number }>();
  return {
    items,
    take<T>(kind: string, owner: string, now: number) {
      const it = items.get(`${kind}/${owner}`);
      if (!it || it.expiresAt <= now) return null;
      return structuredClone(it.value) as T;
    },
    async put(kind, owner, value, expiresAt) {
      items.set(`${kind}/${owner}`, { value: structuredClone(value), expiresAt });
    },
    async remove(kind, owner) {
      items.delete(`${kind}/${owner}`);
    },
  };
}

export const CORP: SsoConfig = { name: "corp", startUrl: "https://corp.awsapps.com/start", region: "eu-west-1", scopes: ["sso:account:access"], autoLogin: false };

/** Points the SDK at the sandbox the way the daemon is pointed at AWS: the SDK's own variables. */
export function pointSdkAt(sandbox: Sandbox): () => void {
  const names = ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"] as const;
  const saved = names.map((n) => process.env[n]);
  for (const n of names) process.env[n] = sandbox.url;
  return () =>
    names.forEach((n, i) => {
      if (saved[i] === undefined) delete process.env[n];
      else process.env[n] = saved[i];
    });
}

/** SsoLogins over the real SDK against the sandbox; device-code polls advance the clock, never wait. */
export function sandboxLogins(clock: Clock & { advance(ms: number): void }, sso: SsoConfig = CORP, vault: LoginVault = memoryVault()): SsoLogins {
  return new SsoLogins({
    api: new AwsSsoApi(() => clock.now()),
    vault,
    clock,
    sso: () => ({ [sso.name]: sso }),
    sleep: async (ms) => clock.advance(ms),
  });
}

/**
 * One sandbox per test and SsoLogins against it, with one clock for both; `arrived` waits (on
 * events, with no time bound) until the sandbox has received a call.
 */
export function ssoWorld() {
  const clock = new ManualClock(Date.now());
  const vault = memoryVault();
  let current: Sandbox | undefined;
  let restore = () => {};
  const world = {
    clock,
    vault,
    get sandbox(): Sandbox {
      if (!current) throw new Error("ssoWorld: call setup() first");
      return current;
    },
    async setup(opts: SandboxOptions = {}): Promise<SsoLogins> {
      current = await startSandbox({ now: () => clock.now(), ...opts });
      restore = pointSdkAt(current);
      vault.items.clear();
      return sandboxLogins(clock, undefined, vault);
    },
    async loggedIn(opts: SandboxOptions = {}): Promise<SsoLogins> {
      const logins = await world.setup({ autoApprove: true, ...opts });
      await logins.startLogin("corp");
      await logins.waitLogin("corp");
      return logins;
    },
    async arrived(action: string, n = 1): Promise<void> {
      while (world.sandbox.count(action) < n) await tick(5);
    },
    async close(): Promise<void> {
      restore();
      await current?.close();
      current = undefined;
    },
  };
  return world;
}
