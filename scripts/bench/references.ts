/**
 * The two references of the cached-path comparison, each in its own process and serving the very
 * bytes s3jit served: a bare node:http server, and nginx (`return 200 '<body>'`) where installed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Reference {
  name: string;
  url: string;
  pid: number;
  close(): Promise<void>;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}

export async function startBare(body: Buffer): Promise<Reference> {
  const child = spawn(process.execPath, [path.join(HERE, "bare-server.mjs")], { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin!.end(body);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("exit", (code) => reject(new Error(`bare server exited ${code}`)));
  });
  return { name: "node:http", url: `http://127.0.0.1:${port}/v1/credentials/audit`, pid: child.pid!, close: () => stop(child) };
}

function which(cmd: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** nginx with one worker (s3jit is one event loop), no access log; null with a reason where absent. */
export async function startNginx(body: Buffer): Promise<Reference | { skipped: string }> {
  const nginx = which("nginx") ?? (which("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null);
  if (!nginx) return { skipped: "nginx is not installed (apt-get install nginx to add this reference)" };
  const text = body.toString("utf8");
  // nginx reads `$name` in a return string as a variable and has no escape for it.
  if (/[$'\\]/.test(text)) return { skipped: "the body holds a character nginx's return string cannot carry" };
  const dir = mkdtempSync(path.join(tmpdir(), "s3jit-nginx-"));
  mkdirSync(path.join(dir, "logs"));
  const port = await freePort();
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / {
      default_type application/json;
      add_header Cache-Control no-store;
      return 200 '${text}';
    }
  }
}
`;
  writeFileSync(path.join(dir, "nginx.conf"), conf, { mode: 0o600 });
  const child = spawn(nginx, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}/v1/credentials/audit`;
  for (const deadline = Date.now() + 5000; ; ) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      return { skipped: `nginx did not start: ${err.trim().split("\n").at(-1) ?? child.exitCode}` };
    }
    if (await fetch(url).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      await stop(child, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      return { skipped: "nginx did not answer within 5 s" };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    name: "nginx",
    url,
    pid: child.pid!,
    async close() {
      // SIGQUIT: nginx's graceful stop.
      await stop(child, "SIGQUIT");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
