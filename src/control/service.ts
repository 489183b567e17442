import { parseDuration } from "../config/duration.js";
import { describeManagedPolicy } from "../config/managed.js";
import type { Config } from "../config/types.js";
import { S3jitError, UsageError } from "../errors.js";
import { policySize } from "../policy/build.js";
import { awsTime, iso } from "../time.js";
import type { Audit } from "../audit/audit.js";
import type { Broker } from "../broker/broker.js";
import type { SsoLogins } from "../sso/logins.js";
import type { ControlApi, StatusReport } from "./contract.js";
import { reasonProblem } from "./reason.js";

/** What the control service needs of the daemon's parts; daemon/compose.ts supplies them. */
export interface ControlServiceDeps {
  config: () => Config;
  broker: Pick<Broker, "grant" | "revoke" | "credentials" | "status" | "purgeAll" | "loggedOut" | "resume" | "on">;
  logins: Pick<SsoLogins, "state" | "startLogin" | "waitLogin" | "logout" | "accounts">;
  tokens: { token(profile: string): string; tokenFile(profile: string): string; rotate(): Promise<void> };
  /** The window state's last narrowing change that could not be saved (windows/state.ts). */
  windows: { readonly unsaved: S3jitError | null };
  audit: Audit;
  clock: { now(): number };
  /** The endpoint's URL for a profile. */
  url(profile: string): string;
  daemon: { pid: number; version: string; port: number; startedAt: number; warnings: string[] };
  /** Who asked, when the request does not say: only the owner reaches the control socket. */
  owner: string;
}

/** The control API as the daemon implements it: every request of the CLI and trays lands here. */
export function controlService(deps: ControlServiceDeps): ControlApi {
  const { broker, logins, tokens, audit, clock } = deps;

  /** Every refusal of a state change leaves a line, as refused requests do. */
  function audited<T>(action: string, profile: string, change: () => T): T {
    const refused = (err: unknown) => {
      if (err instanceof S3jitError) audit.record("refuse", { profile, action, code: err.code, detail: err.message });
      throw err;
    };
    try {
      const out = change();
      return out instanceof Promise ? (out.catch(refused) as T) : out;
    } catch (err) {
      return refused(err);
    }
  }

  const profile = (name: string) => {
    const config = deps.config();
    const p = config.profiles[name];
    if (!p) throw new S3jitError("UnknownProfile", `no profile "${name}" in ${config.file}`);
    return p;
  };

  function status(): StatusReport {
    const config = deps.config();
    const now = clock.now();
    const sso: StatusReport["sso"] = {};
    for (const name of Object.keys(config.sso)) sso[name] = logins.state(name);
    const profiles: StatusReport["profiles"] = {};
    for (const [name, p] of Object.entries(config.profiles)) {
      const st = broker.status(name);
      const w = st.window;
      profiles[name] = {
        mode: p.roleArn ? "assume-role" : "scoped",
        grant: p.grant,
        window: w ? { open: w.start <= now && now < w.end, start: iso(w.start), end: iso(w.end), reason: w.reason, ...(w.who ? { who: w.who } : {}) } : null,
        session: st.session ? { expiration: iso(st.session.expiration) } : null,
        lastRefusal: st.lastRefusal ? { code: st.lastRefusal.code, at: iso(st.lastRefusal.at), ...(st.lastRefusal.reason ? { reason: st.lastRefusal.reason } : {}) } : null,
        loginRequired: !sso[p.sso]?.loggedIn,
        policy: policySize(p),
      };
    }
    const d = deps.daemon;
    return {
      daemon: {
        pid: d.pid,
        version: d.version,
        port: d.port,
        config: config.file,
        keychain: config.daemon.keychain,
        startedAt: iso(d.startedAt),
        warnings: d.warnings,
        ...(config.managed ? { managedPolicy: describeManagedPolicy(config.managed) } : {}),
      },
      sso,
      profiles,
    };
  }

  return {
    status,
    async login(name, force, flow) {
      const sso = name ?? Object.keys(deps.config().sso)[0];
      if (!sso) throw new UsageError("the config defines no [sso.NAME] section");
      if (!force && logins.state(sso).loggedIn) return { sso, alreadyLoggedIn: true };
      const prompt = await logins.startLogin(sso, flow);
      return { ...prompt, alreadyLoggedIn: false };
    },
    async waitLogin(sso) {
      const st = await logins.waitLogin(sso);
      broker.resume();
      return { sso, expiresAt: st.expiresAt };
    },
    async logout() {
      for (const name of Object.keys(deps.config().sso)) {
        // First the broker (a mint in flight for this login stores nothing), then the login itself.
        await broker.loggedOut(name);
        await logins.logout(name);
      }
      await broker.purgeAll();
      // The logout holds whatever the disk says; its line is written either way.
      const rotated = await tokens.rotate().then(
        () => null,
        (err: unknown) => err,
      );
      audit.record("logout", rotated ? { tokensSaved: false } : {});
      if (rotated) throw rotated;
    },
    grant(name, req) {
      // Checked here too: the control socket is an API of its own, not only the CLI's.
      const badReason = typeof req.reason === "string" ? reasonProblem(req.reason) : null;
      if (badReason) throw new UsageError(badReason);
      const w = audited("grant", name, () =>
        broker.grant(name, {
          ...(req.for ? { durationMs: durationArg(req.for) } : {}),
          ...(req.reason ? { reason: req.reason } : {}),
          who: req.who ?? deps.owner,
        }),
      );
      return { profile: name, start: iso(w.start), end: iso(w.end), reason: w.reason };
    },
    async revoke(name) {
      await audited("revoke", name, () => broker.revoke(name));
      // The window is closed now whatever the disk says; the user must hear that a restart would reopen it.
      const unsaved = deps.windows.unsaved;
      if (unsaved) {
        audit.record("error", { profile: name, what: "window state not saved", detail: unsaved.message });
        throw new S3jitError(unsaved.code, `the window of "${name}" is closed, but ${unsaved.message}`);
      }
    },
    env(name) {
      const p = profile(name);
      return { profile: name, region: p.region, url: deps.url(name), tokenFile: tokens.tokenFile(name), token: tokens.token(name) };
    },
    accounts: (sso) => logins.accounts(sso),
    async credentials(name) {
      // credential_process hands out credentials too: it gets the same serve/refuse lines as the
      // endpoint (the process is not known here: only the owner reaches this socket).
      const peer = { via: "control" };
      const s = await broker.credentials(name).catch((err: unknown) => {
        if (err instanceof S3jitError && err.code !== "MintPending") audit.record("refuse", { profile: name, code: err.code, peer });
        throw err;
      });
      audit.record("serve", { profile: name, accessKeyId: s.accessKeyId, expiration: iso(s.expiration), peer });
      return { AccessKeyId: s.accessKeyId, SecretAccessKey: s.secretAccessKey, Token: s.sessionToken, Expiration: awsTime(s.expiration) };
    },
    subscribe: (listener) => broker.on((e) => listener({ ...e })),
  };
}

function durationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`--for: ${(err as Error).message}`);
  }
}
