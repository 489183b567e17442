/**
 * One full garbage collection, run when the endpoint goes quiet (server/quiet.ts), in place of
 * V8's memory reducer, which the daemon's flags turn off (bin/s3jit.js, the service templates).
 *
 * Why: the memory reducer collects an idle heap "to reduce memory", and such a collection keeps
 * no hidden class without a live object. Between two loads none of the request path's objects is
 * alive, so Node's HTTP and stream code lost its hidden classes at every quiet spell and was
 * re-optimized at the next load. An ordinary full collection keeps them a few collections longer,
 * and with --compact-on-every-full-gc it still hands the pages a burst left behind back to the
 * system (RSS after the benchmark's cold burst and 20k requests ≈58 MB, as with the memory
 * reducer). The one class whose loss slowed every later load for good, that of nextTick's tick
 * objects, is held for the process's life by bin/tick-shape.js: any full collection, this one
 * included, would otherwise free it (bench/README.md).
 *
 * `gc` exists only under --expose-gc: a daemon started without the flags (tests, `node dist/…`)
 * leaves collection to V8.
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === "function") gc();
}
