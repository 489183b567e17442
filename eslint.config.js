import js from "@eslint/js";
import tseslint from "typescript-eslint";

/*
 * The architecture's one-way imports (DESIGN.md §1), as no-restricted-imports patterns on what a
 * file in each room may name. Only static imports are seen here; test/architecture.test.ts puts
 * every dynamic import() of src/ through these same rules, and checks what no lint rule sees: what
 * the pure rooms reach transitively, and that every shipped file is part of the product.
 *
 * ESLint gives a file one set of options per rule (a later block replaces an earlier one's), so
 * every room's list below starts from SHIPPED, what no shipped file may import.
 */

/** An import specifier matching `regex` is refused, with `message` saying why. */
const refuse = (regex, message) => ({ regex, message });
/** A relative import reaching into src/<room>/ from anywhere in src/. */
const room = (name) => `^(\\.\\./)+${name}(/|\\.js$)`;

const SHIPPED = [
  refuse("^(@cloud-copilot/|vitest|fast-check)", "test-only packages (iam-simulate is AGPL-3.0): never in shipped code"),
  refuse("(^|/)test/", "test helpers are not shipped: shipped code never imports test/"),
  // daemon/ above all: the daemon must not depend on the terminal.
  refuse(room("cli"), "nothing imports cli/: the CLI is a client of the control API, never a library"),
];
const TRANSPORTS = [
  refuse("^(fastify|pino)(/|$)", "a pure room knows no transport or log framework: take a port (DESIGN.md §1)"),
  refuse("^@(aws-sdk|smithy)/", "a pure room calls no AWS SDK: the minters and SSO clients arrive through ports"),
];
// What the CLI may use besides control/'s contract and client and its own files: shared leaf
// modules (errors, paths, time, version), config/ (names, `init`'s validation, `env`'s shadowing of
// ~/.aws), platform/ (private files, opening the login URL in a browser), service/install (`service`
// writes the unit itself) and audit/audit (`audit` reads the log file, also while no daemon runs).
const CLI_MAY = ["control/(contract|client)", "errors", "paths", "time", "version", "config/[^/]+", "platform/[^/]+", "service/install", "audit/audit"];
const cliOnly = (extra = []) => [
  ...SHIPPED,
  refuse(`^\\.\\./(?!(${[...CLI_MAY, ...extra].join("|")})\\.js$)`, `cli/ talks to the daemon only through control/ (contract, client); it may also use ${CLI_MAY.join(", ")}`),
  refuse("^(fastify|pino)(/|$)|^@(aws-sdk|smithy)/", "cli/ never mints, logs in or serves: the daemon does"),
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "bench/", "reports/", ".stryker-tmp*/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", Buffer: "readonly", setInterval: "readonly", clearInterval: "readonly", fetch: "readonly", AbortController: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // Shipped code: src/ without its tests (tests may import what they test from anywhere).
  {
    files: ["src/**/*.ts"],
    ignores: ["src/**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: SHIPPED }] },
  },
  {
    // The decision and its pure parts: no transport, no AWS SDK, no terminal.
    files: ["src/broker/**/*.ts"],
    ignores: ["src/**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [...SHIPPED, ...TRANSPORTS, refuse(room("server"), "the broker knows no transport: the server asks it through a port")] }] },
  },
  {
    files: ["src/policy/**/*.ts", "src/windows/**/*.ts"],
    ignores: ["src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [...SHIPPED, ...TRANSPORTS, refuse(room("(server|sso|sts|store|aws)"), "policy/ and windows/ are pure: no server, SSO, STS, AWS client or store")] }],
    },
  },
  {
    files: ["src/server/**/*.ts"],
    ignores: ["src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...SHIPPED,
            refuse(room("(sso|sts|store|aws)"), "server/ asks the broker through a port: it never calls SSO or STS and never reads the store"),
            refuse("^@(aws-sdk|smithy)/", "server/ calls no AWS SDK"),
          ],
        },
      ],
    },
  },
  {
    files: ["src/cli/**/*.ts"],
    ignores: ["src/**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: cliOnly() }] },
  },
  {
    // The executable's entry point: `s3jit daemon` runs the daemon in this process.
    files: ["src/cli/main.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: cliOnly(["daemon/run"]) }] },
  },
  {
    // `doctor` checks the keychain itself: it must answer while no daemon runs (DESIGN.md §2).
    files: ["src/cli/doctor.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: cliOnly(["store/keytar"]) }] },
  },
  {
    // The launcher is CommonJS (bin/package.json): the CLI's quick commands skip the ES module loader.
    files: ["bin/**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
