import { DaemonNotRunningError, S3jitError } from "../errors.js";
import { socketProblem } from "../platform/files.js";

// Not `import … from "node:http"`: an ES module import of a builtin builds a facade of all its
// exports, and on Node 24 reading node:http's WebSocket/EventSource getters loads undici (measured:
// ≈70 of a `status` run's ≈110 ms over `node -e 0`). The CLI pays that on every command.
const http = process.getBuiltinModule("node:http");
const net = process.getBuiltinModule("node:net");

/** The CLI's only way to the daemon: HTTP over the owner-only control socket. */
export interface ControlClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  socketPath: string;
}

export function controlClient(socketPath: string, timeoutMs = 0): ControlClient {
  const request = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      // Checked before every request: `env` would print a fake daemon's URL and token,
      // credential-process return its keys, `login` open its page.
      const problem = socketProblem(socketPath);
      if (problem) return reject(new S3jitError("InsecureSocket", `${problem.problem}; s3jit will not talk to it. Fix: ${problem.fix}`));
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          socketPath,
          path,
          method,
          headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {},
          // 0 waits as long as the daemon takes (a login waits for the user), which must be said:
          // Node's global agent otherwise gives up on a socket idle for 5 s.
          timeout: timeoutMs,
          // Our own connection, no agent: nothing to pool for one request, and the agent's guess at
          // a TLS server name runs isIP(), which compiles the IPv6 pattern (≈10% of a
          // `credential-process` run's CPU).
          createConnection: () => net.connect({ path: socketPath, timeout: timeoutMs }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              return reject(new S3jitError("BadResponse", `the daemon answered ${res.statusCode} with something that is not JSON`));
            }
            if ((res.statusCode ?? 500) >= 400) {
              const e = parsed as { code?: string; message?: string };
              return reject(new S3jitError(e.code ?? "Error", e.message ?? `the daemon answered ${res.statusCode}`));
            }
            resolve(parsed as T);
          });
        },
      );
      req.on("timeout", () => req.destroy(new S3jitError("Timeout", "the daemon did not answer in time")));
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT" || err.code === "ECONNREFUSED") reject(new DaemonNotRunningError(socketPath));
        else reject(err);
      });
      if (payload) req.write(payload);
      req.end();
    });
  return {
    socketPath,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body ?? {}),
  };
}
