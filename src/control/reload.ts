import type { Config } from "../config/types.js";
import type { Audit } from "../audit/audit.js";
import type { Broker } from "../broker/broker.js";

export interface ReloadDeps {
  configFile: string;
  load(file: string): Config;
  current(): Config;
  /** Makes `next` the running config. */
  swap(next: Config): void;
  /** Brings the windows in line with the running config. */
  restrictWindows(): void;
  tokens: { ensure(profiles: string[]): Promise<void> };
  broker: Pick<Broker, "purgeAll" | "resume">;
  audit: Audit;
  log(line: string): void;
}

/** SIGHUP: re-read the config; a bad new config is refused and the running one kept. */
export async function reloadConfig(deps: ReloadDeps): Promise<void> {
  const { configFile, audit, log, broker } = deps;
  try {
    const config = deps.current();
    const next = deps.load(configFile);
    if (next.daemon.port !== config.daemon.port || next.daemon.keychain !== config.daemon.keychain) {
      log("s3jit: [daemon] port and keychain changes take effect at the next restart");
    }
    deps.swap(next);
    deps.restrictWindows();
    await deps.tokens.ensure(Object.keys(next.profiles));
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
}
