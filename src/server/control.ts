import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { chmodSync, existsSync, unlinkSync } from "node:fs";
import type { ServerResponse } from "node:http";
import type { ControlApi } from "../control/contract.js";
import { S3jitError } from "../errors.js";
import { statusOf } from "./errors.js";

/** How long shutdown waits for control requests under way before it drops them. */
const CLOSE_GRACE_MS = 5000;

/**
 * The control API on a unix socket. The socket file is 0600 inside a 0700 folder, so only the
 * owner can connect; messages here may be detailed because only the owner reads them.
 */
export async function createControlServer(api: ControlApi, socketPath: string): Promise<{ close(): Promise<void> }> {
  // At shutdown idle connections close at once and requests under way finish (a `grant`, a
  // credential-process waiting on a mint). Event streams never finish: they are ended first.
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 16 * 1024, forceCloseConnections: "idle" });
  const streams = new Set<ServerResponse>();
  app.addHook("preClose", async () => {
    for (const res of streams) res.end();
  });

  app.setErrorHandler((err, _req, reply) => {
    // The one status table (server/errors.ts); the message in full: only the owner reads this socket.
    if (err instanceof S3jitError) return reply.code(statusOf(err.code)).send({ code: err.code, message: err.message });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).send({ code: "Malformed", message: (err as Error).message });
    return reply.code(500).send({ code: "InternalError", message: "internal error; see the daemon's log" });
  });

  const body = (b: unknown): Record<string, unknown> => (b && typeof b === "object" ? (b as Record<string, unknown>) : {});
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

  app.get("/v1/status", async () => api.status());
  app.post("/v1/login", async (req) => {
    const b = body(req.body);
    return api.login(str(b.sso), b.force === true, b.flow === "pkce" ? "pkce" : "device");
  });
  app.post("/v1/login/wait", async (req) => api.waitLogin(str(body(req.body).sso) ?? ""));
  app.post("/v1/logout", async () => {
    await api.logout();
    return { ok: true };
  });
  app.post("/v1/grant", async (req) => {
    const b = body(req.body);
    return api.grant(str(b.profile) ?? "", { for: str(b.for), reason: str(b.reason), who: str(b.who) });
  });
  app.post("/v1/revoke", async (req) => {
    await api.revoke(str(body(req.body).profile) ?? "");
    return { ok: true };
  });
  app.get<{ Params: { profile: string } }>("/v1/env/:profile", async (req) => api.env(req.params.profile));
  app.get<{ Params: { sso: string } }>("/v1/sso/:sso/accounts", async (req) => api.accounts(req.params.sso));
  app.get<{ Params: { profile: string } }>("/v1/credentials/:profile", async (req) => api.credentials(req.params.profile));
  app.get("/v1/events", (req, reply: FastifyReply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    res.write(": s3jit events\n\n");
    const unsubscribe = api.subscribe((event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
    streams.add(res);
    req.raw.on("close", () => {
      unsubscribe();
      streams.delete(res);
    });
  });

  // A stale socket from a crashed daemon blocks listen(); the caller has checked nobody answers on it.
  if (existsSync(socketPath)) unlinkSync(socketPath);
  await app.listen({ path: socketPath });
  chmodSync(socketPath, 0o600);
  return {
    close: async () => {
      // A request that never ends (a login nobody completes) must not hold the daemon up for ever.
      const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      await app.close();
      clearTimeout(force);
    },
  };
}
