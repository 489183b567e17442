/**
 * `npm run build`, second step: bundles tsc's output (dist/) into dist/bundle/ with esbuild, so
 * `bin/s3jit.js` loads one entry file plus the one chunk its command needs (`env`, `status`,
 * `credential-process`… each is a chunk split at its dynamic import), instead of resolving and
 * loading a file per module. The daemon's packages (pino, smol-toml, env-paths) are bundled in
 * too; keytar (native) and the AWS SDK (loaded on first use, after the endpoint answers) stay in
 * node_modules. CommonJS packages in an ES module bundle reach Node's
 * builtins through a real `require` (the banner).
 *
 * `credential-process PROFILE`, `env PROFILE` and `status`, which run per credential fetch, shell or tray poll, get
 * their own single CommonJS file (dist/bundle/fast.cjs, from dist/cli/fast.js): one file to read
 * and compile, builtins through require() (no ES module facades), nothing to resolve or link.
 *
 * A module that finds files next to itself (`new URL("../x", import.meta.url)`) keeps working:
 * its `import.meta.url` is rewritten to the URL its unbundled file has in dist/, resolved from the
 * chunk (all chunks sit in dist/bundle/, one level below dist/).
 */
import { build } from "esbuild";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = path.join(root, "dist");

const keepFileUrls = {
  name: "keep-file-urls",
  setup(b) {
    b.onLoad({ filter: /\/dist\/.*\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes("import.meta.url")) return { contents: text, loader: "js" };
      const rel = path.relative(dist, args.path).split(path.sep).join("/");
      const url = `new URL(${JSON.stringify(`../${rel}`)}, import.meta.url).href`;
      return { contents: text.replaceAll("import.meta.url", url), loader: "js" };
    });
  },
};

// Chunk names carry a hash: last build's chunks go, so none is loaded by mistake.
await rm(path.join(dist, "bundle"), { recursive: true, force: true });
await build({
  entryPoints: { main: path.join(dist, "cli", "main.js") },
  outdir: path.join(dist, "bundle"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["@github/keytar", "@aws-sdk/*"],
  banner: { js: 'import { createRequire as __s3jitCreateRequire } from "node:module"; const require = __s3jitCreateRequire(import.meta.url);' },
  chunkNames: "[name]-[hash]",
  plugins: [keepFileUrls],
  // The daemon's chunks are source V8 keeps in memory for as long as it runs: without indentation
  // and with the packages' license comments in a file of their own (a few non-ASCII characters in
  // them made V8 keep a whole chunk as a two-byte string), they are ASCII and smaller (with fastify
  // the daemon's chunk was ~2 MB, ~1.35 MB so; without it all chunks together are ~0.33 MB).
  // Names are kept: a stack trace still reads.
  minifyWhitespace: true,
  legalComments: "linked",
  logLevel: "warning",
});
// No import.meta in CommonJS: nothing in fast.cjs's graph may find files next to itself.
await build({
  entryPoints: [path.join(dist, "cli", "fast.js")],
  outfile: path.join(dist, "bundle", "fast.cjs"),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external: ["@github/keytar", "@aws-sdk/*"],
  logLevel: "warning",
  logOverride: { "empty-import-meta": "error" },
});
