import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    // One fast-check seed for every property (fixed in CI, random locally, printed on failure).
    setupFiles: ["test/helpers/property-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests spawn daemons and real clients; a 2-core CI machine wants few at once.
    maxWorkers: 2,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
