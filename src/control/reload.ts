import type { Config, ProfileConfig } from "../config/types.js";
import type { Audit } from "../audit/audit.js";
import type { Broker } from "../broker/broker.js";
import { buildSessionPolicy } from "../policy/build.js";
import { currentRangeEnd, parseHours } from "../windows/hours.js";
import type { PlannedChange } from "../windows/state.js";
import type { WindowRules } from "../windows/windows.js";

export interface ReloadDeps {
  configFile: string;
  load(file: string): Config;
  current(): Config;
  /** Makes `next` the running config (one assignment: nothing can fail in it). */
  swap(next: Config): void;
  clock: { now(): number };
  windows: { planRestrict(rulesFor: (profile: string) => WindowRules | undefined, now: number): PlannedChange; unsaved: Error | null };
  /** Creates the new profiles' token files; the returned function makes the new set the one served. */
  tokens: { prepare(profiles: string[]): Promise<() => void> };
  broker: Pick<Broker, "purgeAll" | "resume">;
  audit: Audit;
  log(line: string): void;
}

/**
 * SIGHUP: re-read the config, all or nothing. Everything that can fail runs first — parse and
 * validate, each profile's hours and a trial session policy, the new profiles' token files, the
 * windows cut to the new limits (saved) — and only then does the new config take effect, in one
 * synchronous step. A refused config changes nothing: the running one stays, whole.
 */
export async function reloadConfig(deps: ReloadDeps): Promise<void> {
  const { configFile, audit, log, broker } = deps;
  let cut: string[];
  try {
    const next = deps.load(configFile);
    const now = deps.clock.now();
    for (const p of Object.values(next.profiles)) trialRun(p, now);
    const useTokens = await deps.tokens.prepare(Object.keys(next.profiles));
    // After the last await: from here to the swap nothing else runs, so the plan is still current.
    const plan = deps.windows.planRestrict((p) => next.profiles[p], deps.clock.now());
    const config = deps.current();
    if (next.daemon.port !== config.daemon.port || next.daemon.keychain !== config.daemon.keychain) {
      log("s3jit: [daemon] port and keychain changes take effect at the next restart");
    }
    deps.swap(next);
    plan.apply();
    useTokens();
    cut = plan.changed;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    audit.record("error", { what: "reload refused", detail: msg });
    log(`s3jit: kept the running config; the new one is refused: ${msg}`);
    return;
  }
  audit.record("start", { reload: true, config: configFile, ...(cut.length ? { windowsCut: cut } : {}) });
  if (deps.windows.unsaved) log(`s3jit: ${deps.windows.unsaved.message}`);
  // Sessions were minted under the old config: drop them; open windows re-mint.
  await broker.purgeAll();
  broker.resume();
  log(`s3jit: reloaded ${configFile}`);
}

/** What only a request would otherwise find out: the profile's hours and session policy work. */
function trialRun(p: ProfileConfig, now: number): void {
  try {
    if (p.hours !== undefined) currentRangeEnd(parseHours(p.hours), p.timezone ?? "UTC", now);
    buildSessionPolicy({ scope: p.scope, region: p.region, kmsKeys: p.kmsKeys, windowEnd: now + p.maxWindow });
  } catch (err) {
    throw new Error(`profile.${p.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
