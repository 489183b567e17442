/**
 * The one fast-check seed of a test run. CI runs a fixed seed, so a red CI always replays; locally
 * each run explores a new one. S3JIT_FC_SEED replays any printed seed. Every property test takes
 * it: test/helpers/property-setup.ts sets it as fast-check's global seed for every file, and a
 * test that derives its own seeds (one per mode, say) starts from propertySeed().
 */
const CI_SEED = 20261128;

function pick(): number {
  const fixed = process.env.S3JIT_FC_SEED;
  if (fixed !== undefined && fixed !== "") {
    const n = Number(fixed);
    if (!Number.isSafeInteger(n)) throw new Error(`S3JIT_FC_SEED must be a whole number, not ${JSON.stringify(fixed)}`);
    return n;
  }
  return process.env.CI ? CI_SEED : Math.floor(Math.random() * 2 ** 31);
}

/** Chosen once per test process (a worker runs many files; each replays with the same seed). */
const SEED = pick();

export function propertySeed(): number {
  return SEED;
}

/** The command that replays one failed test with this run's seed. */
export function replayCommand(file: string, testName: string): string {
  // -t takes a regular expression: the name is matched literally, single-quoted for the shell.
  const re = testName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return `S3JIT_FC_SEED=${SEED} npx vitest run ${file} -t '${re.replace(/'/g, "'\\''")}'`;
}
