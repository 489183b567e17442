import type { Server } from "node:net";
import { systemTimers, type Timer, type Timers } from "../clock.js";

/**
 * Calls `onQuiet` once each time the server goes quiet: its last open connection closed and no
 * new one came for `afterMs`. Counted per connection, not per request, so a kept-alive load adds
 * nothing to the cached path, and a load never looks quiet while its connections are open (the
 * endpoint's header deadline closes idle ones within seconds). A failing `onQuiet` is reported to
 * `onError` and changes nothing else.
 */
export function whenQuiet(server: Server, afterMs: number, onQuiet: () => void, opts: { timers?: Timers; onError?: (err: unknown) => void } = {}): void {
  const timers = opts.timers ?? systemTimers;
  let open = 0;
  let pending: Timer | undefined;

  function quiet(): void {
    pending = undefined;
    try {
      onQuiet();
    } catch (err) {
      opts.onError?.(err);
    }
  }

  server.on("connection", (socket) => {
    open++;
    pending?.cancel();
    pending = undefined;
    socket.once("close", () => {
      if (--open === 0) pending = timers.after(afterMs, quiet);
    });
  });
  server.once("close", () => {
    pending?.cancel();
    pending = undefined;
  });
}
