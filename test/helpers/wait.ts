import { watch, readFileSync, type FSWatcher } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";

/**
 * Waits on events instead of the wall clock. Each wait ends when what it waits for happens; its
 * timeout only turns a hang into a failure that names what never came, so it is generous (a
 * loaded 2-core machine) and no passing run depends on it.
 */

/** Long enough that only a broken run reaches it. */
export const FAILURE_TIMEOUT_MS = 60_000;

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

/**
 * Resolves with what `match` returns once the file's text satisfies it (anything but undefined,
 * null or false). The file's folder is watched, so a file created, appended to or renamed into
 * place wakes the check; a slow re-read backs up the watch (inotify may coalesce events), and
 * only decides sooner, never differently.
 */
export function waitForFile<T>(file: string, match: (text: string) => T | undefined | null | false, what: string, timeoutMs = FAILURE_TIMEOUT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let done = false;
    const finish = (err: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(backup);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as T);
    };
    const check = () => {
      if (done) return;
      let v: T | undefined | null | false;
      try {
        v = match(read(file));
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (v !== undefined && v !== null && v !== false) finish(undefined, v);
    };
    const timer = setTimeout(() => finish(new Error(`waited ${timeoutMs} ms for ${what} in ${file}; it holds:\n${read(file).slice(-2000)}`)), timeoutMs);
    const backup = setInterval(check, 500);
    try {
      watcher = watch(path.dirname(file), check);
      watcher.on("error", () => {});
    } catch {
      // No folder yet: the re-read finds the file once it appears.
    }
    check();
  });
}

/** Resolves once the file holds a line matching `re`, with that line. */
export function waitForLine(file: string, re: RegExp, timeoutMs = FAILURE_TIMEOUT_MS): Promise<string> {
  return waitForFile(file, (text) => text.split("\n").find((l) => re.test(l)), `a line matching ${re}`, timeoutMs);
}

/**
 * Resolves once what the streams wrote since this call satisfies `match` (a child's stdout and
 * stderr, say); rejects if the child exits first.
 */
export function waitForOutput<T>(
  streams: Readable[],
  match: (text: string) => T | undefined | null | false,
  what: string,
  opts: { exited?: { once(event: "exit", fn: () => void): unknown }; timeoutMs?: number } = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer | string) => {
      text += d.toString();
      const v = match(text);
      if (v !== undefined && v !== null && v !== false) finish(undefined, v);
    };
    const onExit = () => finish(new Error(`exited before ${what}; it wrote:\n${text.slice(-2000)}`));
    const finish = (err: Error | undefined, value?: T) => {
      clearTimeout(timer);
      for (const s of streams) s.off("data", onData);
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(() => finish(new Error(`waited ${opts.timeoutMs ?? FAILURE_TIMEOUT_MS} ms for ${what}; it wrote:\n${text.slice(-2000)}`)), opts.timeoutMs ?? FAILURE_TIMEOUT_MS);
    for (const s of streams) s.on("data", onData);
    opts.exited?.once("exit", onExit);
  });
}

/**
 * Resolves once `fn` returns something (anything but undefined, null or false), checked again
 * every few milliseconds. For state that changes on I/O where no event says so (a sandbox's
 * request log, a daemon's status).
 */
export async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = FAILURE_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    // The deadline only fails a hung run; the pause only yields to the I/O that changes `fn`.
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Waits until the wall clock has passed `instant` (epoch ms): for a spawned daemon whose windows
 * end on real time. Only a lower bound: a loaded machine waits longer, never less.
 */
export async function pastInstant(instant: number): Promise<void> {
  while (Date.now() <= instant) await new Promise((r) => setTimeout(r, Math.max(1, instant - Date.now() + 1)));
}
