import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Polls `fn` until it returns something truthy, for state that changes on I/O where no event says
 * so. The deadline only fails a hung run, so it is generous (a loaded 2-core CI); a tray's events
 * are waited for with `subscribe(…).next`, as they come.
 */
export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tray's view: the control socket's server-sent events. */
export function subscribe(socketPath: string): {
  events: Array<{ type: string; at: number } & Record<string, unknown>>;
  /** Resolves with the first event so far or to come that `match` accepts (fails on a hung run only). */
  next(what: string, match: (e: SubscribedEvent, i: number) => boolean, timeoutMs?: number): Promise<SubscribedEvent>;
  close(): void;
  ready: Promise<void>;
  /** true when the daemon ended the stream cleanly, false when the connection was cut. */
  ended: Promise<boolean>;
} {
  const events: SubscribedEvent[] = [];
  const waiting = new Set<() => void>();
  const next = (what: string, match: (e: SubscribedEvent, i: number) => boolean, timeoutMs = 60_000) =>
    new Promise<SubscribedEvent>((resolve, reject) => {
      const check = () => {
        const found = events.find(match);
        if (!found) return;
        waiting.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiting.delete(check);
        reject(new Error(`waited ${timeoutMs} ms for ${what}; heard ${events.map((e) => e.type).join(", ")}`));
      }, timeoutMs);
      waiting.add(check);
      check();
    });
  let close = () => {};
  let settle: (clean: boolean) => void = () => {};
  const ended = new Promise<boolean>((r) => (settle = r));
  const ready = new Promise<void>((resolve, reject) => {
    const req = http.get({ socketPath, path: "/v1/events" }, (res) => {
      let buf = "";
      res.on("end", () => settle(true));
      res.on("close", () => settle(false));
      res.on("data", (d: Buffer) => {
        buf += d.toString();
        resolve();
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (data) events.push({ ...(JSON.parse(data.slice(6)) as { type: string }), at: Date.now() });
          for (const check of [...waiting]) check();
        }
      });
    });
    req.on("error", (err) => {
      settle(false);
      reject(err);
    });
    close = () => req.destroy();
  });
  return { events, next, close: () => close(), ready, ended };
}

export type SubscribedEvent = { type: string; at: number } & Record<string, unknown>;

/** One control API request over the unix socket, as the CLI sends it. */
export function controlPost(socketPath: string, urlPath: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}


/** The control socket of a stack's daemon (env-paths: XDG_RUNTIME_DIR/s3jit). */
export function socketOf(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_RUNTIME_DIR!, "s3jit", "control.sock");
}

/** The audit log's events, oldest first. */
export function auditEvents(env: NodeJS.ProcessEnv): Array<{ event: string } & Record<string, unknown>> {
  const text = readFileSync(path.join(env.XDG_STATE_HOME!, "s3jit", "audit.log"), "utf8").trim();
  return text.split("\n").map((l) => JSON.parse(l) as { event: string } & Record<string, unknown>);
}
