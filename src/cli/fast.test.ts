import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The built CLI (npm run build), as a shell or a credential_process tool runs it, with no daemon
// (a runtime folder of its own): every command still loads all it needs to ask one.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "bin", "s3jit.js");
const FULL = path.join(ROOT, "dist", "bundle", "main.js");

let dir: string;
let preload: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "s3jit-fast-"));
  // Writes the builtins the process loaded, as it exits.
  preload = path.join(dir, "loaded.cjs");
  await writeFile(
    preload,
    `process.on("exit", () => require("node:fs").writeFileSync(process.env.LOADED_FILE, JSON.stringify(process.moduleLoadList)));\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  loaded: string[];
}

let runs = 0;
function cli(entry: string, args: string[]): Promise<Run> {
  const loadedFile = path.join(dir, `loaded-${++runs}.json`);
  const env = { ...process.env, XDG_RUNTIME_DIR: path.join(dir, "run"), S3JIT_TRAY_CLI: "s3jit", LOADED_FILE: loadedFile, NO_COLOR: "1" };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", preload, entry, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      readFile(loadedFile, "utf8").then((text) => resolve({ code, stdout, stderr, loaded: JSON.parse(text) as string[] }), reject);
    });
  });
}

const FAST = [["credential-process", "audit"], ["env", "audit"], ["status"], ["status", "--json"], ["status", "--format", "waybar"], ["status", "--format", "xbar"]];

describe("the commands run per credential fetch, shell and tray poll", () => {
  // The full CLI's argument parser, node:crypto, and what an ES module import of node:http pulls
  // in (on Node 24 undici, for node:http's WebSocket getter): none of it is needed.
  it.each(FAST.map((args) => [args.join(" "), args] as const))("%s loads only what it uses", async (_name, args) => {
    const r = await cli(BIN, args);
    expect(r.code, r.stderr).not.toBe(null);
    const builtins = r.loaded.filter((m) => m.startsWith("NativeModule "));
    expect(builtins).not.toContain("NativeModule internal/util/parse_args/parse_args");
    expect(builtins).not.toContain("NativeModule internal/crypto/webcrypto");
    // node:crypto itself (≈10 ms of start-up here): nothing on these paths needs a cryptographic primitive.
    expect(builtins).not.toContain("NativeModule crypto");
    expect(builtins).not.toContain("NativeModule internal/deps/undici/undici");
  });

  it.each(FAST.map((args) => [args.join(" "), args] as const))("%s answers as the full CLI does", async (_name, args) => {
    const [fast, full] = await Promise.all([cli(BIN, args), cli(FULL, args)]);
    expect({ code: fast.code, stdout: fast.stdout, stderr: fast.stderr }).toEqual({ code: full.code, stdout: full.stdout, stderr: full.stderr });
  });

  it.each([["credential-process"], ["credential-process", "audit", "extra"], ["env", "audit", "--json"], ["env", "--help"], ["status", "--format", "nope"]])(
    "leaves %s to the full CLI",
    async (...args) => {
      const r = await cli(BIN, args);
      expect(r.loaded).toContain("NativeModule internal/util/parse_args/parse_args");
    },
  );
});
