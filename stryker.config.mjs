// Mutation testing of the guarantee-bearing code (issue 18): `npm run mutation`, not in CI.
// One module at a time (a 2-core machine takes minutes per module, not hours):
//   S3JIT_MUTATE=policy npm run mutation
// Modules: see MODULES below; without S3JIT_MUTATE every module runs against every fast test.
// Scores and the survivors' reasons are kept in test/MUTATION.md.

/** Each module's code and the fast tests aimed at it (vitest.mutation.config.ts reads the tests). */
const MODULES = {
  policy: { mutate: ["src/policy/**/*.ts"], tests: ["src/policy/**/*.test.ts", "test/policy/**/*.test.ts", "test/mutation-kills/policy*.test.ts"] },
  windows: { mutate: ["src/windows/**/*.ts"], tests: ["src/windows/**/*.test.ts", "test/broker/races.test.ts", "test/broker/mint-refusals.test.ts", "test/mutation-kills/windows*.test.ts"] },
  // Every in-process test that drives the real broker (the sandbox answers SSO and STS): races,
  // refusals, the interleavings and never-beyond properties, refresh ahead, window end, the STS
  // minters. Properties run fewer times under mutation (S3JIT_PROPERTY_RUNS below).
  broker: {
    mutate: ["src/broker/**/*.ts"],
    tests: [
      "test/broker/*.test.ts",
      "test/windows/*.test.ts",
      "test/never-beyond.test.ts",
      "test/sts/*.test.ts",
      "src/broker/*.test.ts",
      "test/mutation-kills/broker*.test.ts",
    ],
  },
  endpoint: {
    // The server is built in beforeAll: its set-up code counts as static, and is run, not ignored.
    runStatic: true,
    // credential-body.ts is the answer's bytes, split out of credentials.ts.
    mutate: ["src/server/credentials.ts", "src/server/credential-body.ts", "src/server/tokens.ts"],
    tests: ["src/server/credentials*.test.ts", "src/server/tokens*.test.ts", "test/mutation-kills/endpoint*.test.ts"],
  },
  sso: { mutate: ["src/sso/**/*.ts"], tests: ["src/sso/**/*.test.ts", "test/sso/**/*.test.ts", "test/mutation-kills/sso*.test.ts"] },
  // keytar.ts is left out: its tests need a Secret Service (D-Bus keyring) and spawn one.
  store: { mutate: ["src/store/**/*.ts", "!src/store/keytar.ts"], tests: ["src/store/secret*.test.ts", "test/mutation-kills/store*.test.ts"] },
  audit: { mutate: ["src/audit/audit.ts"], tests: ["src/audit/audit.test.ts", "src/audit/retention.test.ts", "test/mutation-kills/audit*.test.ts"], runStatic: true },
};

const chosen = process.env.S3JIT_MUTATE;
if (chosen !== undefined && !(chosen in MODULES)) throw new Error(`S3JIT_MUTATE=${chosen}: one of ${Object.keys(MODULES).join(", ")}`);
const modules = chosen ? [MODULES[chosen]] : Object.values(MODULES);
// Read by vitest.mutation.config.ts in Stryker's test-runner processes (they inherit the environment).
if (chosen) process.env.S3JIT_MUTATION_TESTS = MODULES[chosen].tests.join(",");
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
// Every mutant meets the same property inputs (CI's seed unless one is given), so a score is
// repeatable and a kill is not luck; and properties run fewer times: each mutant runs them again.
process.env.S3JIT_FC_SEED ??= "20261128";
process.env.S3JIT_PROPERTY_RUNS ??= "15";
// keytar.ts is not mutated and the run has no Secret Service: the store's tests do without the
// keychain, by name (test/helpers/requires.ts; the KeytarStore contract would fail, not skip).
process.env.S3JIT_TEST_WITHOUT = [...new Set([...(process.env.S3JIT_TEST_WITHOUT ?? "").split(",").filter(Boolean), "keychain"])].join(",");
const name = chosen ?? "all";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  coverageAnalysis: "perTest",
  mutate: [...modules.flatMap((m) => m.mutate), "!src/**/*.test.ts"],
  // Static mutants (module-level constants, code run in beforeAll) need every test per mutant; they
  // are reported as ignored rather than run, except for modules whose tests are few and fast.
  ignoreStatic: !modules.every((m) => m.runStatic),
  concurrency: 2,
  timeoutMS: 15_000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: ".stryker-tmp",
  // Not into the sandbox: another run's temp folder (two modules side by side) or the reports.
  ignorePatterns: [".stryker-tmp*", "reports"],
  cleanTempDir: "always",
  thresholds: { high: 90, low: 85, break: null },
};
