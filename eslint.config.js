import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "bench/"] },
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
  {
    // The architecture's one-way imports (DESIGN.md §1).
    files: ["src/policy/**", "src/windows/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["@aws-sdk/*", "fastify", "../server/*", "../sso/*", "../sts/*", "../store/*"] }],
    },
  },
  {
    files: ["src/server/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["@aws-sdk/*", "../sso/*", "../sts/*", "../store/*"] }],
    },
  },
  {
    files: ["src/cli/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["@aws-sdk/*", "../sso/*", "../sts/*", "../broker.js"] }],
    },
  },
);
