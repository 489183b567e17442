import { existsSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { systemClock, type Clock } from "../clock.js";
import type { Config } from "../config/types.js";
import { loadConfig } from "../config/load.js";
import { parseDuration } from "../config/duration.js";
import { S3jitError, UsageError } from "../errors.js";
import { ensurePrivateDir, resolvePaths, type Paths } from "../paths.js";
import { VERSION } from "../version.js";
import { fileAudit, type Audit } from "../audit/audit.js";
import { findPeer } from "../platform/peer.js";
import { Broker, type Window } from "../broker/broker.js";
import { AwsSsoApi, type SsoApi } from "../sso/api.js";
import { SsoLogins } from "../sso/logins.js";
import { AwsMinter, type Minter } from "../sts/mint.js";
import { MemoryStore } from "../store/memory.js";
import { KeytarStore, probeKeychain } from "../store/keytar.js";
import { Secrets, scheduleExpiry } from "../store/secrets.js";
import { EndpointTokens } from "../server/tokens.js";
import { createCredentialsServer } from "../server/credentials.js";
import { createControlServer, type ControlApi, type StatusReport } from "../server/control.js";
import { controlClient } from "../control/client.js";
import { canOpenBrowser, openBrowser } from "../platform/browser.js";
import { WindowBook } from "../windows/windows.js";
import { loadWindows, saveWindows } from "../windows/state.js";

export interface DaemonOptions {
  configFile?: string;
  clock?: Clock;
  /** Tests and the benchmark inject AWS; production uses the SDK. */
  ssoApi?: SsoApi;
  minter?: Minter;
  log?: (line: string) => void;
}

export interface RunningDaemon {
  port: number;
  /** Re-read the config; a bad new config is refused and the old one kept. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The composition root: the only place that picks concrete implementations. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const clock = opts.clock ?? systemClock;
  const paths: Paths = resolvePaths();
  const configFile = opts.configFile ?? paths.configFile;
  let config: Config = loadConfig(configFile);
  for (const dir of [paths.data, paths.runtime, paths.log, paths.tokens]) ensurePrivateDir(dir);

  await refuseSecondDaemon(paths.socket);

  const store = config.daemon.keychain === "memory" ? new MemoryStore() : await openKeychain();
  const secrets = await Secrets.open(store);
  await secrets.purgeExpired(clock.now());
  // One timer at the next expiry (no polling): expired tokens and sessions leave the keychain.
  const expiry = scheduleExpiry(secrets, () => clock.now(), () => {});
  const audit: Audit = fileAudit(paths.auditLog);

  refuseInsecure(paths.stateFile);
  const windows = new WindowBook();
  /** What the user should know about this start (shown by `status`). */
  const warnings: string[] = [];
  try {
    loadWindows(paths.stateFile, windows, clock.now());
  } catch (err) {
    // A damaged or hand-edited state file must not open (or extend) anything: start closed, say why.
    const msg = err instanceof Error ? err.message : String(err);
    warnings.push(`the window state file was refused, so every window starts closed: ${msg}`);
    log(`s3jit: ignoring the window state file: ${msg}`);
    audit.record("error", { what: "window state refused", detail: msg });
  }
  const persist = () => saveWindows(paths.stateFile, windows);
  // A window outlives neither its profile nor a narrowed max_window/hours.
  const restrict = () => {
    if (windows.restrict((p) => config.profiles[p], clock.now()).length) persist();
  };
  restrict();

  const logins = new SsoLogins({
    api: opts.ssoApi ?? new AwsSsoApi(() => clock.now()),
    vault: secrets,
    clock,
    sso: () => config.sso,
    onLogin: (sso, ok, detail) => audit.record("login", { sso, ok, detail }),
  });
  const broker = new Broker({
    config: () => config,
    clock,
    windows,
    logins,
    minter: opts.minter ?? new AwsMinter(),
    vault: secrets,
    audit,
    windowsChanged: persist,
  });
  // The daemon never opens a browser on its own, unless the user asked for it (auto_login):
  // then one login (startLogin joins a running one) when a mint finds the login missing.
  broker.on((e) => {
    if (e.type !== "login-required" || !config.sso[e.sso]?.autoLogin || !canOpenBrowser(process.env)) return;
    // Many requests fail while one login runs: one browser tab, not one per request.
    if (logins.state(e.sso).loginPending) return;
    void logins
      .startLogin(e.sso, "pkce")
      .then(async (p) => {
        await openBrowser(p.url, process.env);
        await logins.waitLogin(e.sso);
        broker.resume();
      })
      .catch((err: unknown) => audit.record("error", { what: "auto login failed", sso: e.sso, code: err instanceof S3jitError ? err.code : "Error" }));
  });
  const tokens = await EndpointTokens.open(paths.tokens, Object.keys(config.profiles), { now: () => clock.now() });

  const credentials = await createCredentialsServer({
    source: broker,
    tokens,
    port: config.daemon.port,
    events: {
      served: (profile, s, peer) => auditServe(profile, s.accessKeyId, s.expiration, peer.port),
      refused: (profile, code, peer) => audit.record("refuse", { profile, code, peer }),
    },
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EADDRINUSE") throw err;
    throw new S3jitError(
      "PortInUse",
      `127.0.0.1:${config.daemon.port} is already in use by another program: set another [daemon] port in ${config.file} (0 picks any free port; \`s3jit env\` always prints the right one)`,
    );
  });

  // One serve line per session and connection: an SDK re-fetching over a kept-alive connection is
  // the same hand-out to the same process, and a line per request would cost the hot path.
  // Finding the requesting process walks /proc (every process's open files), so it runs after the
  // answer, one at a time and at most twice a second; beyond that the line has no process.
  const servedOn = new Map<number, string>();
  let lookups = { second: 0, count: 0 };
  function auditServe(profile: string, accessKeyId: string, expiration: number, clientPort: number): void {
    if (servedOn.get(clientPort) === accessKeyId) return;
    if (servedOn.size >= 4096) servedOn.clear();
    servedOn.set(clientPort, accessKeyId);
    const fields = { profile, accessKeyId, expiration: iso(expiration) };
    const second = Math.floor(Date.now() / 1000);
    if (second !== lookups.second) lookups = { second, count: 0 };
    if (lookupsInFlight.size > 0 || ++lookups.count > 2) return audit.record("serve", { ...fields, peer: { port: clientPort } });
    const pending = findPeer(clientPort, credentials.port).then((p) => audit.record("serve", { ...fields, peer: { port: clientPort, ...p } }));
    lookupsInFlight.add(pending);
    void pending.finally(() => lookupsInFlight.delete(pending));
  }
  // Waited for at shutdown, so every serve line is written before the stop line.
  const lookupsInFlight = new Set<Promise<void>>();

  const startedAt = clock.now();
  const status = (): StatusReport => {
    const now = clock.now();
    const sso: StatusReport["sso"] = {};
    for (const name of Object.keys(config.sso)) sso[name] = logins.state(name);
    const profiles: StatusReport["profiles"] = {};
    for (const [name, p] of Object.entries(config.profiles)) {
      const st = broker.status(name);
      const w: Window | null = st.window;
      profiles[name] = {
        mode: p.roleArn ? "assume-role" : "scoped",
        grant: p.grant,
        window: w ? { open: w.start <= now && now < w.end, start: iso(w.start), end: iso(w.end), reason: w.reason, ...(w.who ? { who: w.who } : {}) } : null,
        session: st.session ? { expiration: iso(st.session.expiration) } : null,
        lastRefusal: st.lastRefusal ? { code: st.lastRefusal.code, at: iso(st.lastRefusal.at) } : null,
        loginRequired: !sso[p.sso]?.loggedIn,
      };
    }
    return {
      daemon: { pid: process.pid, version: VERSION, port: credentials.port, config: config.file, keychain: config.daemon.keychain, startedAt: iso(startedAt), warnings },
      sso,
      profiles,
    };
  };

  const api: ControlApi = {
    status,
    async login(name, force, flow) {
      const sso = name ?? Object.keys(config.sso)[0];
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
      for (const name of Object.keys(config.sso)) await logins.logout(name);
      await broker.purgeAll();
      await tokens.rotate();
      audit.record("logout", {});
    },
    grant(profile, req) {
      const w = broker.grant(profile, {
        ...(req.for ? { durationMs: durationArg(req.for) } : {}),
        ...(req.reason ? { reason: req.reason } : {}),
        // Only the owner reaches the control socket: the daemon's own user is who asked.
        who: req.who ?? userInfo().username,
      });
      return { profile, start: iso(w.start), end: iso(w.end), reason: w.reason };
    },
    revoke: (profile) => broker.revoke(profile),
    env(profile) {
      const p = config.profiles[profile];
      if (!p) throw new S3jitError("UnknownProfile", `no profile "${profile}" in ${config.file}`);
      return { profile, region: p.region, url: credentials.url(profile), tokenFile: tokens.tokenFile(profile), token: tokens.token(profile) };
    },
    accounts: (sso) => logins.accounts(sso),
    async credentials(profile) {
      // credential_process hands out credentials too: it gets the same serve/refuse lines as the
      // endpoint (the process is not known here: only the owner reaches this socket).
      const peer = { via: "control" };
      const s = await broker.credentials(profile).catch((err: unknown) => {
        if (err instanceof S3jitError && err.code !== "MintPending") audit.record("refuse", { profile, code: err.code, peer });
        throw err;
      });
      audit.record("serve", { profile, accessKeyId: s.accessKeyId, expiration: iso(s.expiration), peer });
      return { AccessKeyId: s.accessKeyId, SecretAccessKey: s.secretAccessKey, Token: s.sessionToken, Expiration: iso(s.expiration).replace(/\.\d{3}Z$/, "Z") };
    },
    subscribe: (listener) => broker.on((e) => listener({ ...e })),
  };
  const control = await createControlServer(api, paths.socket);
  writeFileSync(paths.pidFile, String(process.pid), { mode: 0o600 });

  broker.resume();
  audit.record("start", { pid: process.pid, version: VERSION, port: credentials.port, config: configFile });
  log(`s3jit ${VERSION}: serving credentials on 127.0.0.1:${credentials.port}, control socket ${paths.socket}`);

  return {
    port: credentials.port,
    async reload() {
      try {
        const next = loadConfig(configFile);
        if (next.daemon.port !== config.daemon.port || next.daemon.keychain !== config.daemon.keychain) {
          log("s3jit: [daemon] port and keychain changes take effect at the next restart");
        }
        config = next;
        restrict();
        await tokens.ensure(Object.keys(config.profiles));
        // Sessions were minted under the old scope: drop them; open windows re-mint.
        await broker.purgeAll();
        broker.resume();
        audit.record("start", { reload: true, config: configFile });
        log(`s3jit: reloaded ${configFile}`);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        audit.record("error", { what: "reload refused", detail: msg });
        log(`s3jit: kept the running config; the new one is refused: ${msg}`);
      }
    },
    async stop() {
      broker.close();
      expiry.stop();
      await Promise.allSettled([credentials.close(), control.close()]);
      await Promise.allSettled([...lookupsInFlight]);
      audit.record("stop", { pid: process.pid });
      await audit.flush();
    },
  };

  async function openKeychain() {
    // One service name per daemon; a second s3jit user setup (or a test) can name its own.
    const service = process.env.S3JIT_KEYCHAIN_SERVICE || "s3jit";
    await probeKeychain(service);
    return new KeytarStore(service);
  }
}

/**
 * Like ssh with a private key: a state file others can read or write is a sign that something is
 * wrong, so the daemon stops and names the fix rather than carry on.
 */
function refuseInsecure(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return;
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    const m = (mode & 0o777).toString(8).padStart(4, "0");
    throw new S3jitError("InsecureFile", `${file} has mode ${m}: other users can read or change it. Run \`chmod 600 ${file}\` and start again`);
  }
}

function durationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`--for: ${(err as Error).message}`);
  }
}

/** A second daemon for the same user would fight over the socket: name the first one's pid. */
async function refuseSecondDaemon(socket: string): Promise<void> {
  if (!existsSync(socket)) return;
  try {
    const st = await controlClient(socket, 2000).get<StatusReport>("/v1/status");
    throw new S3jitError("AlreadyRunning", `another s3jit daemon is already running (pid ${st.daemon.pid}); stop it first`);
  } catch (err) {
    if (err instanceof S3jitError && err.code === "AlreadyRunning") throw err;
    // Nobody answers: a stale socket from a daemon that died; createControlServer replaces it.
  }
}
