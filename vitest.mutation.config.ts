import { defineConfig } from "vitest/config";

// The tests Stryker runs against each mutant (`npm run mutation`): in-process unit, broker, SSO and
// policy tests, nothing that spawns a daemon, a CLI or a real client. stryker.config.mjs narrows
// them per module through S3JIT_MUTATION_TESTS (comma-separated globs), so a module's mutants run
// only against the fast tests aimed at it.
const ALL = [
  "src/**/*.test.ts",
  "test/broker/**/*.test.ts",
  "test/sso/**/*.test.ts",
  "test/sts/**/*.test.ts",
  "test/windows/**/*.test.ts",
  "test/never-beyond.test.ts",
  "test/policy/**/*.test.ts",
  "test/mutation-kills/**/*.test.ts",
];

const narrowed = process.env.S3JIT_MUTATION_TESTS?.split(",").filter(Boolean);

export default defineConfig({
  test: {
    include: narrowed?.length ? narrowed : ALL,
    exclude: [
      // spawn processes (the CLI, service managers, a D-Bus keyring)
      "src/cli/**",
      "src/service/**",
      "src/store/keytar.test.ts",
    ],
    environment: "node",
    // The same one fast-check seed as the main suite.
    setupFiles: ["test/helpers/property-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
