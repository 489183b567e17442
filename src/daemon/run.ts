import { startDaemon, type RunningDaemon } from "./compose.js";

/** `s3jit daemon`: run until SIGTERM/SIGINT, then close the listeners and exit 0. */
export async function runDaemon(opts: { configFile?: string }): Promise<number> {
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(opts.configFile ? { configFile: opts.configFile } : {});
  } catch (err) {
    process.stderr.write(`s3jit: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      process.off("SIGHUP", reload);
      daemon.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    const reload = () => void daemon.reload();
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    process.on("SIGHUP", reload);
  });
}
