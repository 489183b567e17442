#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`, run on install):
// dist/bundle/main.js, esbuild's bundle of it, and dist/cli/main.js, tsc's output, where only
// that was built. This file is CommonJS (bin/package.json): credential-process, env and status run
// in scripts and shell start-up, and an ES module entry costs them ≈10 ms of module loader before
// any of our code runs.
"use strict";
const module_ = require("node:module");

// V8 flags for the long-running daemon:
// - young-generation semi-spaces capped small, so a burst of requests does not leave tens of MB
//   of heap reserved for good;
// - V8 tuned for memory over peak speed (its heap grows in smaller steps after a burst);
// - no allocation-site pretenuring: a cold burst (hundreds of first requests waiting on one mint)
//   makes the request path's objects look long-lived, V8 then allocates them straight into the
//   old generation for the rest of the process's life, and every cached hit after it cost ≈30%
//   more CPU (an old-generation collection every few hundred ms);
// - one V8 worker thread instead of one per core (background GC and compiles for a daemon that
//   is idle most of the time);
// - no memory reducer: its collections of an idle heap drop the hidden classes of Node's request
//   path at every quiet spell. The daemon instead runs one ordinary, compacting full collection
//   (`gc`, exposed for it) each time its endpoint goes quiet: src/daemon/memory.ts. The class
//   whose loss was for good (nextTick's tick objects) is held by ./tick-shape.js.
// What each bought is in bench/README.md. The service templates (systemd ExecStart, launchd
// ProgramArguments) pass the same flags; a `s3jit daemon` started by hand is re-executed with
// them where Node can replace its own process (process.execve, Node 22.15+).
const DAEMON_FLAGS = [
  "--max-semi-space-size=1",
  "--optimize-for-size",
  "--no-allocation-site-pretenuring",
  "--v8-pool-size=1",
  "--no-memory-reducer",
  "--compact-on-every-full-gc",
  "--expose-gc",
];
const daemon = process.argv[2] === "daemon";
if (daemon && typeof process.execve === "function" && !process.execArgv.some((a) => a.startsWith("--max-semi-space-size"))) {
  process.execve(process.execPath, [process.execPath, ...DAEMON_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
// First thing in the daemon, before anything can run a full collection: see bin/tick-shape.js.
if (daemon) require("./tick-shape.js").keepTickShape();

// Node 22.1+ keeps compiled code of the modules it loads on disk between runs (a no-op before).
module_.enableCompileCache?.();

// `credential-process PROFILE`, `env PROFILE` and `status` (per credential fetch, per shell, per tray poll): one
// CommonJS file that handles exactly those forms and nothing else (undefined: the full CLI answers).
function fast() {
  if (process.argv[2] !== "credential-process" && process.argv[2] !== "env" && process.argv[2] !== "status") return undefined;
  try {
    return require("../dist/bundle/fast.cjs");
  } catch (err) {
    if (err?.code !== "MODULE_NOT_FOUND") throw err;
    return undefined;
  }
}

function full() {
  const notBuilt = (err, file) => err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes(file);
  return import("../dist/bundle/main.js")
    .catch((err) => {
      if (notBuilt(err, "dist/bundle/main.js")) return import("../dist/cli/main.js");
      throw err;
    })
    .catch((err) => {
      if (notBuilt(err, "dist/cli/main.js")) {
        process.stderr.write("s3jit: not built yet. Run `npm run build` in the s3jit folder.\n");
        process.exit(1);
      }
      throw err;
    });
}

const quick = fast();
if (quick) {
  quick.run(process.argv.slice(2)).then((code) => (code !== undefined ? (process.exitCode = code) : full()));
} else {
  full();
}
