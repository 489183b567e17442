import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { describe, it } from "vitest";

/**
 * What a suite needs from the machine, named. A suite whose need is missing FAILS, with one message
 * saying what is missing, how to install it and how to opt out, because a suite that skips
 * silently catches nothing (the keychain suites hold the only plaintext-secret scan). A run that
 * cannot have something says so by name: S3JIT_TEST_WITHOUT=systemd-user[,boto3…]; those suites
 * are then skipped, with "opted out: S3JIT_TEST_WITHOUT=…" in their titles, and the run's summary
 * (scripts/ci-summary.mjs) lists them.
 */

const SETUP = "or `bash scripts/setup-system.sh`, which installs every package the suite needs on Debian/Ubuntu";

interface Probe {
  /** undefined when present, else what is missing, in a few words. */
  check: () => Promise<string | undefined>;
  install: string;
}

function runs(file: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, (err, _stdout, stderr) => resolve(err ? `\`${[file, ...args].join(" ")}\` failed: ${(stderr.trim().split("\n").at(-1) || err.message).trim()}` : undefined));
  });
}

function executable(file: string): string | undefined {
  try {
    accessSync(file, constants.X_OK);
    return undefined;
  } catch {
    return `${file} is not installed`;
  }
}

async function onPath(...commands: string[]): Promise<string | undefined> {
  const absent: string[] = [];
  for (const c of commands) if (await runs("sh", ["-c", `command -v ${c}`])) absent.push(c);
  return absent.length > 0 ? `${absent.join(", ")} not on PATH` : undefined;
}

const PROBES = {
  /** A usable (unlocked) Secret Service, and secret-tool as the tests' outside witness of what is in it. */
  keychain: {
    async check() {
      const { probeKeychain } = await import("../../src/store/keytar.js");
      const unusable = await probeKeychain("s3jit-test-probe").then(
        () => undefined,
        (err: Error) => err.message.split(". ")[0],
      );
      return unusable ?? (await onPath("secret-tool"));
    },
    install: `run the suite under scripts/with-keyring.sh (npm run test:all does): it starts a throwaway unlocked gnome-keyring, with gnome-keyring, dbus, libsecret-1-0 and libsecret-tools installed (${SETUP})`,
  },
  /** What scripts/with-keyring.sh starts a keyring with. */
  "keyring-tools": {
    check: () => onPath("dbus-run-session", "gnome-keyring-daemon", "dbus-send", "secret-tool"),
    install: `apt-get install dbus gnome-keyring libsecret-tools (${SETUP})`,
  },
  /** The AWS CLI v2 the client suites run for real (Debian 12's awscli is 2.9). */
  "aws-cli-v2": {
    check: async () => executable("/usr/bin/aws"),
    install: `apt-get install awscli, Debian 12's AWS CLI 2.9 (${SETUP})`,
  },
  /** boto3 for the system python3 (Debian 12's python3-boto3 is 1.26). */
  boto3: {
    check: async () => executable("/usr/bin/python3") ?? (await runs("/usr/bin/python3", ["-c", "import boto3"])),
    install: `apt-get install python3-boto3 (${SETUP})`,
  },
  /** zsh and fish: `s3jit completion` and `s3jit env --shell fish` are run in them for real. */
  zsh: {
    check: () => onPath("zsh"),
    install: `apt-get install zsh (${SETUP})`,
  },
  fish: {
    check: () => onPath("fish"),
    install: `apt-get install fish (${SETUP})`,
  },
  "systemd-analyze": {
    check: () => runs("systemd-analyze", ["--version"]),
    install: `apt-get install systemd (${SETUP})`,
  },
  /** A systemd user manager that answers `systemctl --user` (a login session on a machine booted with systemd). */
  "systemd-user": {
    check: () => runs("systemctl", ["--user", "show", "--property=Version"]),
    install: "run the suite in a login session of a machine booted with systemd (or `loginctl enable-linger $USER`); containers usually have none",
  },
} satisfies Record<string, Probe>;

export type Requirement = keyof typeof PROBES;
export const REQUIREMENTS = Object.keys(PROBES) as Requirement[];

/** The names S3JIT_TEST_WITHOUT opts out of; a name no suite knows is an error (a typo would otherwise run nothing less). */
export function optedOut(without: string | undefined): Requirement[] {
  const names = (without ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  const unknown = names.filter((n) => !(REQUIREMENTS as string[]).includes(n));
  if (unknown.length > 0) throw new Error(`S3JIT_TEST_WITHOUT names ${unknown.map((n) => `"${n}"`).join(", ")}, which no suite requires; known: ${REQUIREMENTS.join(", ")}`);
  return names as Requirement[];
}

export type Decision = { run: true } | { run: false; skip: string } | { run: false; fail: string };

/**
 * Run, skip or fail, from what the suite needs (each name with what is missing, or undefined when
 * present) and S3JIT_TEST_WITHOUT. An opt-out wins over presence: the run said it does without.
 */
export function decide(needs: Partial<Record<Requirement, string | undefined>>, without: string | undefined): Decision {
  const out = optedOut(without);
  const names = Object.keys(needs) as Requirement[];
  const skipped = names.filter((n) => out.includes(n));
  if (skipped.length > 0) return { run: false, skip: `opted out: S3JIT_TEST_WITHOUT=${skipped.join(",")}` };
  const missing = names.filter((n) => needs[n] !== undefined);
  if (missing.length === 0) return { run: true };
  const lines = missing.flatMap((n) => [`needs ${n}, which is missing here: ${needs[n]}.`, `  install: ${PROBES[n].install}`]);
  return { run: false, fail: [...lines, `  or opt out of these tests by name: S3JIT_TEST_WITHOUT=${missing.join(",")}`].join("\n") };
}

/** `describe` and `it` for suites that need something: they run, fail with the decision's message, or skip as opted out. */
export interface Gate {
  decision: Decision;
  describe(title: string, body: () => void, options?: { timeout?: number }): void;
  it(title: string, body: () => unknown, timeout?: number): void;
}

export function gate(decision: Decision): Gate {
  const failing = (title: string, message: string) => it(`${title}: ${message.split("\n")[0]}`, () => {
    throw new Error(message);
  });
  return {
    decision,
    describe(title, body, options = {}) {
      if (decision.run) describe(title, options, body);
      else if ("skip" in decision) describe.skip(`${title} (${decision.skip})`, options, body);
      else describe(title, () => failing("cannot run", decision.fail));
    },
    it(title, body, timeout) {
      if (decision.run) it(title, body, timeout);
      else if ("skip" in decision) it.skip(`${title} (${decision.skip})`, body);
      else failing(title, decision.fail);
    },
  };
}

/** Probes what the suite names (once, when the file is collected) and gates its tests on it. */
export async function requires(...names: Requirement[]): Promise<Gate> {
  const without = process.env.S3JIT_TEST_WITHOUT;
  const out = optedOut(without);
  // What the run does without is not probed: its probe may be what cannot work here.
  const needs = Object.fromEntries(await Promise.all(names.map(async (n) => [n, out.includes(n) ? undefined : await PROBES[n].check()] as const)));
  return gate(decide(needs, without));
}
