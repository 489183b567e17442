import { ManualClock, ManualTimers } from "../../src/clock.js";
import { Broker } from "../../src/broker/broker.js";
import type { RoleCredentials } from "../../src/broker/mint.js";
import type { Audit, AuditEvent } from "../../src/audit/audit.js";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";
import { LoginRequiredError } from "../../src/errors.js";
import { MemoryStore } from "../../src/store/memory.js";
import { Secrets } from "../../src/store/secrets.js";
import type { Minted, MintRequest, Minter } from "../../src/sts/mint.js";
import type { AwsCredentials } from "../../src/types.js";
import { WindowBook } from "../../src/windows/windows.js";
import { AUDIT, profileToml, SSO_TOML, type ProfileKeys } from "../helpers/config.js";

/**
 * The broker with AWS held by the test: every STS answer (and, when asked, every role-credentials
 * answer) waits on a deferred promise the test settles, and time moves only by ManualTimers. Races
 * are then orderings the test writes down, never sleeps.
 */

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every promise chain that can move, move (the mints' awaits, the vault's writes). */
export { settle, track } from "../helpers/settle.js";

/** STS held by the test: each mint waits until `answer` or `fail`. */
export class HeldMinter implements Minter {
  readonly calls: Array<{ req: MintRequest; at: number; answer: Deferred<Minted>; settled: boolean }> = [];
  private keys = 0;

  constructor(private readonly clock: ManualClock) {}

  mint(req: MintRequest): Promise<Minted> {
    const answer = deferred<Minted>();
    this.calls.push({ req, at: this.clock.now(), answer, settled: false });
    return answer.promise;
  }

  /** Answers call `i` as STS would: DurationSeconds from now, never past the parent's end in scoped mode. */
  answer(i: number, extra: Partial<Minted> = {}): Minted {
    const call = this.calls[i];
    if (!call || call.settled) throw new Error(`no pending mint #${i} (${this.calls.length} calls)`);
    const now = this.clock.now();
    const end = now + call.req.durationSeconds * 1000;
    const minted: Minted = {
      accessKeyId: `ASIAMINT${++this.keys}`,
      secretAccessKey: `secret-${this.keys}`,
      sessionToken: `token-${this.keys}`,
      expiration: Math.floor((call.req.roleArn ? end : Math.min(end, call.req.base.expiration)) / 1000) * 1000,
      arn: call.req.roleArn ?? "arn:aws:sts::123456789012:assumed-role/S3JitBase/user",
      requestId: `req-${this.keys}`,
      ...extra,
    };
    call.settled = true;
    call.answer.resolve(minted);
    return minted;
  }

  fail(i: number, err: unknown): void {
    const call = this.calls[i];
    if (!call || call.settled) throw new Error(`no pending mint #${i}`);
    call.settled = true;
    call.answer.reject(err);
  }

  pending(): number[] {
    return this.calls.flatMap((c, i) => (c.settled ? [] : [i]));
  }
}

/** The SSO side: role credentials at once, LoginRequired once logged out. */
export class FakeLogins implements RoleCredentials {
  loggedIn = true;
  baseTtlMs = 60 * 60_000;
  readonly asked: number[] = [];

  constructor(private readonly clock: ManualClock) {}

  roleCredentials(sso: string, _accountId: string, _roleName: string, minLifeMs = 0): Promise<AwsCredentials> {
    this.asked.push(minLifeMs);
    if (!this.loggedIn) return Promise.reject(new LoginRequiredError(sso));
    return Promise.resolve({ accessKeyId: "ASIABASE", secretAccessKey: "base", sessionToken: "base", expiration: this.clock.now() + this.baseTtlMs });
  }
}

export const configOf = (profiles: string): Config => parseConfig(SSO_TOML + profiles, "/test/config.toml");
export const auditProfile = (keys: ProfileKeys = {}): string => profileToml("audit", { ...AUDIT, ...keys });

export interface World {
  clock: ManualClock;
  timers: ManualTimers;
  minter: HeldMinter;
  logins: FakeLogins;
  store: MemoryStore;
  vault: Secrets;
  windows: WindowBook;
  broker: Broker;
  audit: Array<{ event: AuditEvent; fields: Record<string, unknown> }>;
  /** What `config()` returns now; a reload swaps it. */
  config: Config;
  /** Every session access key id the vault ever held (written through the store). */
  vaultKeys: string[];
}

export async function world(profiles = auditProfile()): Promise<World> {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const store = new MemoryStore();
  const vaultKeys: string[] = [];
  const set = store.set.bind(store);
  store.set = async (k: string, v: string) => {
    if (k.startsWith("session:")) vaultKeys.push((JSON.parse(v) as { data: { accessKeyId: string } }).data.accessKeyId);
    return set(k, v);
  };
  const vault = await Secrets.open(store);
  const audit: World["audit"] = [];
  const log: Audit = { record: (event, fields) => audit.push({ event, fields }), flush: async () => {} };
  const minter = new HeldMinter(clock);
  const logins = new FakeLogins(clock);
  const windows = new WindowBook();
  const w = { clock, timers, minter, logins, store, vault, windows, audit, vaultKeys, config: configOf(profiles) } as World;
  w.broker = new Broker({ config: () => w.config, clock, timers, windows, logins, minter, vault, audit: log });
  return w;
}

/** The session keys in the vault now. */
export async function vaultSessions(w: World): Promise<string[]> {
  const out: string[] = [];
  for (const k of await w.store.list()) {
    if (!k.startsWith("session:")) continue;
    const raw = await w.store.get(k);
    if (raw) out.push((JSON.parse(raw) as { data: { accessKeyId: string } }).data.accessKeyId);
  }
  return out;
}
