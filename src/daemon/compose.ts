import { writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { systemClock, systemTimers, type Clock } from "../clock.js";
import type { Config } from "../config/types.js";
import { loadConfig } from "../config/load.js";
import { S3jitError } from "../errors.js";
import { resolvePaths, type Paths } from "../paths.js";
import { ensurePrivateDir } from "../platform/files.js";
import { VERSION } from "../version.js";
import { fileAudit, type Audit } from "../audit/audit.js";
import { serveAudit } from "../audit/serve.js";
import { refusalAudit } from "../audit/refusals.js";
import { findPeer } from "../platform/peer.js";
import { canOpenBrowser, openBrowser } from "../platform/browser.js";
import { Broker } from "../broker/broker.js";
import type { SsoApi } from "../sso/api.js";
import { SsoLogins } from "../sso/logins.js";
import type { Minter } from "../sts/mint.js";
import { AwsWorker, WorkerMinter, WorkerSsoApi } from "../aws/worker.js";
import { MemoryStore } from "../store/memory.js";
import { KeytarStore, probeKeychain } from "../store/keytar.js";
import { Secrets, scheduleExpiry } from "../store/secrets.js";
import { EndpointTokens } from "../server/tokens.js";
import { createCredentialsServer, type CredentialSource } from "../server/credentials.js";
import { createControlServer } from "../server/control.js";
import { controlService } from "../control/service.js";
import { autoLogin } from "../control/auto-login.js";
import { reloadConfig } from "../control/reload.js";
import { WindowState } from "../windows/state.js";
import { refuseSecondDaemon, restoreWindows } from "./guards.js";
import { collectGarbage } from "./memory.js";

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

/** The composition root: the only place that picks concrete implementations and wires them. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const clock = opts.clock ?? systemClock;
  const paths: Paths = resolvePaths();
  const configFile = opts.configFile ?? paths.configFile;
  let config: Config = loadConfig(configFile);
  for (const dir of [paths.data, paths.runtime, paths.log, paths.tokens]) ensurePrivateDir(dir);

  await refuseSecondDaemon(paths.socket);

  // The endpoint answers first: what it needs before its first answer is the token files and the
  // audit log. The keychain (a read per item; slow where the OS asks), the window state and the
  // broker come after; a request that arrives meanwhile waits for the broker (one check per
  // request once it is there, no extra promise).
  // Under systemd (stdout is the journal) a log pipeline reading the journal gets the same JSON lines.
  const audit: Audit = fileAudit(paths.auditLog, {
    ...(process.env.JOURNAL_STREAM ? { mirror: (line: string) => void process.stdout.write(line) } : {}),
    // An organisation's minimum audit retention (managed policy): rotation keeps more files if needed.
    ...(config.managed?.auditRetention ? { minRetentionMs: config.managed.auditRetention } : {}),
  });
  const tokens = await EndpointTokens.open(paths.tokens, Object.keys(config.profiles));
  let broker: Broker | undefined;
  let brokerReady!: (b: Broker) => void;
  let brokerFailed!: (err: unknown) => void;
  const brokerStarted = new Promise<Broker>((resolve, reject) => {
    brokerReady = resolve;
    brokerFailed = reject;
  });
  // A start that fails before the broker exists leaves no waiting request unanswered (nor an unhandled rejection).
  brokerStarted.catch(() => {});
  const source: CredentialSource = { credentials: (p) => (broker ? broker.serve(p) : brokerStarted.then((b) => b.serve(p))) };

  let endpointPort = 0;
  const serves = serveAudit(audit, (clientPort) => findPeer(clientPort, endpointPort));
  // Refusals as bounded summaries: no request rate can rotate the trail out of the log (issue 15).
  const refusals = refusalAudit(audit, { clock, timers: systemTimers });
  const credentials = await createCredentialsServer({
    source,
    tokens,
    port: config.daemon.port,
    events: {
      served: (profile, s, peer) => serves.served(profile, s.accessKeyId, s.expiration, peer.port),
      refused: (profile, code, peer) => refusals.refused(profile, code, peer),
    },
    connections: { onClose: (clientPort) => serves.closed(clientPort) },
    onQuiet: collectGarbage,
  }).catch(async (err: NodeJS.ErrnoException) => {
    await audit.flush();
    if (err.code !== "EADDRINUSE") throw err;
    throw new S3jitError(
      "PortInUse",
      `127.0.0.1:${config.daemon.port} is already in use by another program: set another [daemon] port in ${config.file} (0 picks any free port; \`s3jit env\` always prints the right one)`,
    );
  });
  endpointPort = credentials.port;

  // Everything after the endpoint listens: a failure closes it again, so the process can exit.
  try {
    return await behindTheEndpoint();
  } catch (err) {
    brokerFailed(err);
    await credentials.close();
    refusals.flush();
    await audit.flush();
    throw err;
  }

  async function behindTheEndpoint(): Promise<RunningDaemon> {
    const store = config.daemon.keychain === "memory" ? new MemoryStore() : await openKeychain();
    const secrets = await Secrets.open(store);
    await secrets.purgeExpired(clock.now());
    // One timer at the next expiry (no polling): expired tokens and sessions leave the keychain.
    const expiry = scheduleExpiry(secrets, () => clock.now(), () => {});

    const windows = new WindowState(paths.stateFile);
    /** What the user should know about this start (shown by `status`). */
    const warnings: string[] = [];
    const refused = restoreWindows(() => windows.load(clock.now()), audit, log);
    if (refused) warnings.push(refused);
    // A window outlives neither its profile nor a narrowed max_window/hours.
    windows.restrict((p) => config.profiles[p], clock.now());
    if (windows.unsaved) log(`s3jit: ${windows.unsaved.message}`);

    // The AWS SDK runs in a helper process started at the first call and ended when idle: the
    // daemon itself never loads it (aws/worker.ts).
    const aws = new AwsWorker({
      clock,
      onExit: (pid, expected, why) => {
        if (!expected) log(`s3jit: the AWS helper process (pid ${pid}) ${why}; its calls failed as retryable, the next one starts a new helper`);
      },
    });
    const logins = new SsoLogins({
      api: opts.ssoApi ?? new WorkerSsoApi(aws),
      vault: secrets,
      clock,
      sso: () => config.sso,
      onLogin: (sso, ok, detail) => audit.record("login", { sso, ok, detail }),
    });
    const running = new Broker({ config: () => config, clock, windows, logins, minter: opts.minter ?? new WorkerMinter(aws), vault: secrets, audit });
    broker = running;
    brokerReady(running);
    autoLogin({ sso: () => config.sso, broker: running, logins, audit, canOpenBrowser: () => canOpenBrowser(process.env), openBrowser: (url) => openBrowser(url, process.env) });

    const api = controlService({
      config: () => config,
      broker: running,
      logins,
      tokens,
      windows,
      audit,
      clock,
      url: (profile) => credentials.url(profile),
      daemon: { pid: process.pid, version: VERSION, port: credentials.port, startedAt: clock.now(), warnings },
      owner: userInfo().username,
    });
    const control = await createControlServer(api, paths.socket, {
      // What the caller's "internal error; see the daemon's log" points at.
      onError: ({ method, path, error, code }) => log(`s3jit: control API ${method} ${path} failed: ${error}${code ? ` (${code})` : ""}`),
    });
    writeFileSync(paths.pidFile, String(process.pid), { mode: 0o600 });

    running.resume();
    audit.record("start", { pid: process.pid, version: VERSION, port: credentials.port, config: configFile });
    log(`s3jit ${VERSION}: serving credentials on 127.0.0.1:${credentials.port}, control socket ${paths.socket}`);

    return {
      port: credentials.port,
      reload: () =>
        reloadConfig({
          configFile,
          load: loadConfig,
          current: () => config,
          swap: (next) => (config = next),
          clock,
          windows,
          tokens,
          broker: running,
          audit,
          log,
        }),
      async stop() {
        running.close();
        expiry.stop();
        await Promise.allSettled([credentials.close(), control.close()]);
        // After the servers: a request they let finish may still be waiting on AWS.
        await aws.close();
        await serves.settle();
        windows.flush();
        refusals.flush();
        audit.record("stop", { pid: process.pid });
        await audit.flush();
      },
    };
  }

  async function openKeychain() {
    // One service name per daemon; a second s3jit user setup (or a test) can name its own.
    const service = process.env.S3JIT_KEYCHAIN_SERVICE || "s3jit";
    await probeKeychain(service);
    return new KeytarStore(service);
  }
}
