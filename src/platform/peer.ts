import { readFile, readdir, readlink } from "node:fs/promises";
import { execFile } from "node:child_process";

export interface PeerProcess {
  pid: number;
  exe?: string;
  cwd?: string;
}

/**
 * Which local process holds the client end of a loopback TCP connection — best effort, for the
 * audit log only (never for a security decision: a process can lie about nothing here, but it
 * can exit before we look). Linux: /proc/net/tcp gives the socket inode, /proc/PID/fd finds its
 * owner. macOS: lsof.
 */
export async function findPeer(clientPort: number, serverPort: number): Promise<PeerProcess | null> {
  try {
    if (process.platform === "linux") return await linuxPeer(clientPort, serverPort);
    if (process.platform === "darwin") return await lsofPeer(clientPort, serverPort);
  } catch {
    // best effort
  }
  return null;
}

const hexPort = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
const LOOPBACK = "0100007F";

async function linuxPeer(clientPort: number, serverPort: number): Promise<PeerProcess | null> {
  const table = await readFile("/proc/net/tcp", "utf8");
  const local = `${LOOPBACK}:${hexPort(clientPort)}`;
  const remote = `${LOOPBACK}:${hexPort(serverPort)}`;
  let inode: string | undefined;
  for (const line of table.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[2] === remote) {
      inode = f[9];
      break;
    }
  }
  if (!inode || inode === "0") return null;
  const target = `socket:[${inode}]`;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => "");
      if (link === target) {
        const pid = Number(entry);
        const [exe, cwd] = await Promise.all([readlink(`/proc/${entry}/exe`).catch(() => undefined), readlink(`/proc/${entry}/cwd`).catch(() => undefined)]);
        return { pid, ...(exe ? { exe } : {}), ...(cwd ? { cwd } : {}) };
      }
    }
  }
  return null;
}

function lsofPeer(clientPort: number, serverPort: number): Promise<PeerProcess | null> {
  return new Promise((resolve) => {
    execFile("lsof", ["-nP", `-iTCP@127.0.0.1:${clientPort}`, "-sTCP:ESTABLISHED", "-Fpn"], { timeout: 2000 }, (err, stdout) => {
      if (err) return resolve(null);
      let pid: number | undefined;
      for (const line of stdout.split("\n")) {
        if (line.startsWith("p")) pid = Number(line.slice(1));
        if (line.startsWith("n") && line.includes(`:${clientPort}->`) && line.endsWith(`:${serverPort}`) && pid) return resolve({ pid });
      }
      resolve(null);
    });
  });
}
