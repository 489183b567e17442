import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { systemClock, systemTimers, type Clock, type Timer, type Timers } from "../clock.js";
import { UpstreamError } from "../errors.js";
import { authorizationEndpoint, type SsoApi } from "../sso/api.js";
import type { MintRequest, Minted, Minter } from "../sts/mint.js";
import type { AwsCredentials } from "../types.js";
import { fromWire, type SsoCall, type StsCall, type WireAnswer, type WireRequest } from "./wire.js";

/** How long the helper outlives its last call: a login's polls and a burst of mints share one. */
export const AWS_IDLE_MS = 30_000;

export interface AwsWorkerOptions {
  /** Its clock is what lifetimes are counted from (a test's manual clock too). */
  clock?: Clock;
  /** Where the idle period runs (tests: ManualTimers). */
  timers?: Timers;
  idleMs?: number;
  /** The helper ended: `expected` when idle or shutdown ended it, not when it died on its own. */
  onExit?: (pid: number, expected: boolean, why: string) => void;
}

// Built as dist/aws/worker-main.js; a test running the TypeScript sources starts it through tsx.
const fromSource = import.meta.url.endsWith(".ts");
const ENTRY = fileURLToPath(new URL(fromSource ? "./worker-main.ts" : "./worker-main.js", import.meta.url));

/**
 * The daemon's side of the AWS helper process (aws/worker-main.ts): it is started at the first
 * SDK call and ended after AWS_IDLE_MS without one, so the SDK's memory is the helper's and goes
 * with it (the daemon returns to its start footprint; a mint is rare next to serving a cached
 * session). A worker thread was measured first: after terminate() most of its memory stayed in
 * the daemon's RSS. If the helper dies mid-call, the call fails as an UpstreamError (retried
 * like any AWS failure) and the next call starts a new one.
 */
export class AwsWorker {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Helpers ended on purpose (idle, shutdown), as opposed to one that died. */
  private readonly ended = new WeakSet<ChildProcess>();
  private seq = 0;
  private idle: Timer | undefined;
  private closed = false;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly idleMs: number;
  /** How many helper processes were started so far. */
  started = 0;

  constructor(private readonly opts: AwsWorkerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    this.idleMs = opts.idleMs ?? AWS_IDLE_MS;
  }

  /** The helper's pid while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  call<T>(service: "sso", method: SsoCall, args: unknown[]): Promise<T>;
  call<T>(service: "sts", method: StsCall, args: unknown[]): Promise<T>;
  call<T>(service: "sso" | "sts", method: SsoCall | StsCall, args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new UpstreamError("s3jit is stopping: no more AWS calls"));
    this.idle?.cancel();
    this.idle = undefined;
    const child = this.child ?? this.start();
    const req: WireRequest = { id: ++this.seq, now: this.clock.now(), service, method, args };
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req.id, { child, resolve: resolve as (v: unknown) => void, reject });
      child.channel?.ref();
      child.send(req, (err) => {
        if (err) this.settle(req.id, (p) => p.reject(helperFailed(err.message)));
      });
    });
  }

  /** Ends the helper (daemon shutdown); calls under way fail, later calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.end();
  }

  private start(): ChildProcess {
    // The daemon's V8 flags apply to the helper too (a small young generation).
    const execArgv = fromSource ? ["--import", "tsx"] : process.execArgv;
    const child = fork(ENTRY, [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "json" });
    this.child = child;
    this.started++;
    child.on("message", (a: WireAnswer) => this.settle(a.id, (p) => (a.ok ? p.resolve(a.value) : p.reject(fromWire(a.error)))));
    let reported = false;
    const gone = (why: string) => {
      if (this.child === child) this.child = undefined;
      for (const [id, p] of this.pending) if (p.child === child) this.settle(id, (q) => q.reject(helperFailed(why)));
      if (!reported) this.opts.onExit?.(child.pid ?? 0, this.ended.has(child), why);
      reported = true;
    };
    child.on("exit", (code, signal) => gone(signal ? `ended by ${signal}` : `exited ${code}`));
    child.on("error", (err) => gone(err.message));
    // Neither the helper nor its pipe keeps the daemon's event loop alive while idle.
    child.unref();
    return child;
  }

  private settle(id: number, how: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    how(p);
    if (this.pending.size === 0 && this.child) {
      this.child.channel?.unref();
      if (!this.closed) this.idle = this.timers.after(this.idleMs, () => void this.end());
    }
  }

  /** Ends the current helper; a call from now on starts a new one. */
  private async end(): Promise<void> {
    this.idle?.cancel();
    this.idle = undefined;
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.ended.add(child);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // Held until it has exited: at shutdown nothing else may keep the loop running, and a daemon
    // that exits first leaves its helper unreaped.
    child.ref();
    child.kill("SIGTERM");
    await exited;
  }
}

interface Pending {
  child: ChildProcess;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

function helperFailed(why: string): UpstreamError {
  return new UpstreamError(`AWS call failed: the AWS helper process ${why}`);
}

/** The SSO calls, run in the helper; the authorize URL needs no SDK and is built here. */
export class WorkerSsoApi implements SsoApi {
  constructor(
    private readonly worker: AwsWorker,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  authorizationEndpoint(...a: Parameters<SsoApi["authorizationEndpoint"]>): string {
    return authorizationEndpoint(this.env, ...a);
  }
  registerClient(...a: Parameters<SsoApi["registerClient"]>): ReturnType<SsoApi["registerClient"]> {
    return this.worker.call("sso", "registerClient", a);
  }
  createTokenFromCode(...a: Parameters<SsoApi["createTokenFromCode"]>): ReturnType<SsoApi["createTokenFromCode"]> {
    return this.worker.call("sso", "createTokenFromCode", a);
  }
  startDeviceAuthorization(...a: Parameters<SsoApi["startDeviceAuthorization"]>): ReturnType<SsoApi["startDeviceAuthorization"]> {
    return this.worker.call("sso", "startDeviceAuthorization", a);
  }
  createTokenFromDeviceCode(...a: Parameters<SsoApi["createTokenFromDeviceCode"]>): ReturnType<SsoApi["createTokenFromDeviceCode"]> {
    return this.worker.call("sso", "createTokenFromDeviceCode", a);
  }
  refreshToken(...a: Parameters<SsoApi["refreshToken"]>): ReturnType<SsoApi["refreshToken"]> {
    return this.worker.call("sso", "refreshToken", a);
  }
  getRoleCredentials(...a: Parameters<SsoApi["getRoleCredentials"]>): ReturnType<SsoApi["getRoleCredentials"]> {
    return this.worker.call("sso", "getRoleCredentials", a);
  }
  logout(...a: Parameters<SsoApi["logout"]>): ReturnType<SsoApi["logout"]> {
    return this.worker.call("sso", "logout", a);
  }
  listAccounts(...a: Parameters<SsoApi["listAccounts"]>): ReturnType<SsoApi["listAccounts"]> {
    return this.worker.call("sso", "listAccounts", a);
  }
}

/** Both minters (scoped, assume-role) and whoAmI, run in the helper. */
export class WorkerMinter implements Minter {
  constructor(private readonly worker: AwsWorker) {}

  mint(req: MintRequest): Promise<Minted> {
    return this.worker.call("sts", "mint", [req]);
  }
  whoAmI(region: string, base: AwsCredentials): Promise<string> {
    return this.worker.call("sts", "whoAmI", [region, base]);
  }
}
