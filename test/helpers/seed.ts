/**
 * The fast-check seed for the broker's property tests. CI runs a fixed seed, so a red CI always
 * replays; locally each run explores a new one. S3JIT_FC_SEED replays any printed seed.
 */
export function propertySeed(): number {
  const seed = Number(process.env.S3JIT_FC_SEED ?? (process.env.CI ? 20261128 : Date.now() % 2 ** 31));
  console.log(`property seed ${seed} (replay with S3JIT_FC_SEED=${seed})`);
  return seed;
}
