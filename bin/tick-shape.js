// Keeps one of process.nextTick's tick objects alive for the daemon's life, so that Node's own
// nextTick stays on V8's fast path however often the heap is collected.
//
// Why: nextTick builds each tick object as an object literal with computed (symbol) keys. V8
// records the hidden class that literal builds in nextTick's feedback, and when a later tick
// object comes out with another class, it marks those sites megamorphic for good, with no way
// back. A full collection at a moment when no tick object is alive frees the class, and the
// next tick object builds a new one. The daemon's full collections come mostly while it is idle,
// with no tick object alive (its quiet-time collection, src/daemon/memory.ts, and those of its
// start-up), so after the first of them every nextTick took V8's runtime path for the rest of
// the process's life: ≈0.8 µs a call instead of ≈0.15, 4–6 calls per cached hit (measured on
// Node 20 and 24; bench/README.md). A class with a live object is never freed, so one held
// object is enough.
"use strict";
const { createHook } = require("node:async_hooks");

let kept;

/**
 * Catches the tick object of one nextTick call (async_hooks hands it to an init hook as the
 * call's resource) and keeps it in this module, which the module cache keeps for the process's
 * life. Call it before anything can run a full collection. Returns the object (undefined on a
 * Node that makes no tick objects or has no createHook); a second call returns the first one's.
 */
function keepTickShape() {
  if (kept !== undefined) return kept;
  // A speed-up only: a Node without createHook (the docs ask users to move off async_hooks) still
  // starts the daemon.
  if (typeof createHook !== "function") return undefined;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === "TickObject" && kept === undefined) kept = resource;
    },
  }).enable();
  try {
    process.nextTick(() => {});
  } finally {
    // Async hooks cost every async operation while enabled: this one lives for one call.
    hook.disable();
  }
  return kept;
}

module.exports = { keepTickShape };
