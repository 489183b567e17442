import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { S3jitError, UnknownProfileError } from "../errors.js";
import { privacyProblem, writePrivateFile, type PrivacyProblem } from "../platform/files.js";
import { isProfileName } from "./profile-name.js";

/** 32 bytes = 256 bits, 43 characters of base64url: URL-safe and free of CR/LF. */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43,1024}$/;

interface Entry {
  token: string;
}

/**
 * Equal or not, in a time that depends only on `expected`'s length: every character of it is
 * compared, whatever `presented` holds and wherever it first differs (a character past
 * `presented`'s end compares as 0, and the lengths are compared too). Every token s3jit writes and
 * the decoy are 43 characters, so the time tells nothing about a token, a guess, or a profile.
 * Plain arithmetic, no hashing: this runs on every credential fetch (a sha256 of the presented
 * token and timingSafeEqual cost several times more).
 */
export function constantTimeEqual(presented: string, expected: string): boolean {
  let diff = presented.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (presented.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  return diff === 0;
}

/**
 * The per-profile tokens of the credentials endpoint, one file each (`<dir>/<profile>`, 0600, no
 * trailing newline: botocore and the Rust SDK reject CR/LF), as SDKs read them through
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
 */
export class EndpointTokens {
  private entries = new Map<string, Entry>();
  // Unknown profiles are compared against this (a token's length), so they cost the same work as known ones.
  private readonly decoy = newToken();

  private constructor(private readonly dir: string) {}

  /** Load the tokens of `profiles`, creating missing ones; refuses files others could read. */
  static async open(dir: string, profiles: string[]): Promise<EndpointTokens> {
    const tokens = new EndpointTokens(dir);
    await tokens.ensure(profiles);
    return tokens;
  }

  /**
   * Serve exactly these profiles (after a config reload): new ones get a token, kept ones keep
   * theirs, dropped ones stop verifying (their files stay, harmless, for a profile that returns).
   */
  async ensure(profiles: string[]): Promise<void> {
    (await this.prepare(profiles))();
  }

  /**
   * The first half of `ensure`, for a reload that must be all or nothing: loads or creates the
   * token files of `profiles` (what can fail) and returns the step that makes them the served set.
   */
  async prepare(profiles: string[]): Promise<() => void> {
    for (const p of profiles) this.tokenFile(p);
    await prepareDir(this.dir);
    const loaded = new Map<string, string>();
    for (const p of profiles) if (!this.entries.has(p)) loaded.set(p, await this.loadOrCreate(p));
    return () => {
      const next = new Map<string, Entry>();
      for (const p of profiles) next.set(p, this.entries.get(p) ?? fresh(loaded.get(p)!));
      this.entries = next;
    };
  }

  tokenFile(profile: string): string {
    if (!isProfileName(profile)) throw new S3jitError("InvalidProfileName", `"${profile}" cannot name a token file: use letters, digits, _ . - (at most 64)`);
    return path.join(this.dir, profile);
  }

  token(profile: string): string {
    const e = this.entries.get(profile);
    if (!e) throw new UnknownProfileError(profile, [...this.entries.keys()]);
    return e.token;
  }

  /**
   * Constant time (constantTimeEqual): an unknown profile runs the same comparison against a
   * decoy of a token's length, so timing tells neither whether the guess was close nor which
   * profiles exist.
   */
  verify(profile: string, presented: string): boolean {
    const e = this.entries.get(profile);
    const matches = constantTimeEqual(presented, e ? e.token : this.decoy);
    return e !== undefined && matches;
  }

  /**
   * New tokens for one profile, or all. The replaced tokens stop working at once: logout must
   * shut out whoever holds an old one (DESIGN.md §2), and a process that needs to go on asks
   * `s3jit env` for the new one. (There was a 10-minute grace for long AWS CLI runs, which read
   * the token file once; it kept a leaked token working past logout.) A token file that cannot
   * be written does not keep its old token alive: the new one holds in memory (`s3jit env` hands
   * it out), and the error names the file.
   */
  async rotate(profile?: string): Promise<void> {
    const names = profile === undefined ? [...this.entries.keys()] : [profile];
    for (const name of names) if (!this.entries.has(name)) throw new UnknownProfileError(name, [...this.entries.keys()]);
    const unwritten: string[] = [];
    for (const name of names) {
      const token = newToken();
      this.entries.set(name, fresh(token));
      try {
        writePrivateFile(this.tokenFile(name), token);
      } catch (err) {
        unwritten.push(`${this.tokenFile(name)} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      }
    }
    if (unwritten.length > 0) {
      throw new S3jitError(
        "StateWriteFailed",
        `the old endpoint tokens no longer work, but the new token could not be written to ${unwritten.join(", ")}: processes reading that file get 401 until it can be written (run \`s3jit logout\` again then); \`s3jit env\` prints the new token`,
      );
    }
  }

  private async loadOrCreate(profile: string): Promise<string> {
    const file = this.tokenFile(profile);
    let handle: fs.FileHandle;
    try {
      // O_NOFOLLOW: a symlink planted in place of the file must not make us read (or trust) another.
      handle = await fs.open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return this.write(profile);
      if (code === "ELOOP") throw insecure(file, { problem: "is a symbolic link", fix: `rm ${file}` });
      throw err;
    }
    try {
      const problem = privacyProblem(file, await handle.stat(), "file");
      if (problem) throw insecure(file, problem);
      const text = await handle.readFile("utf8");
      if (TOKEN_SHAPE.test(text)) return text;
    } finally {
      await handle.close();
    }
    // Empty, too short, or edited (a trailing newline breaks botocore): replace it with a good one.
    return this.write(profile);
  }

  /** Write a fresh token atomically: readers see the old file or the new one, never half of one. */
  private write(profile: string): string {
    const token = newToken();
    writePrivateFile(this.tokenFile(profile), token);
    return token;
  }
}

function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

function fresh(token: string): Entry {
  return { token };
}

/** Create the folder owner-only; an existing one must already be owner-only (as ssh insists for ~/.ssh). */
async function prepareDir(dir: string): Promise<void> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.chmod(dir, 0o700);
    return;
  }
  const problem = privacyProblem(dir, st, "dir");
  if (problem) throw insecure(dir, problem);
}

function insecure(target: string, { problem, fix }: PrivacyProblem): S3jitError {
  // Whoever could read it may hold the token: rotating after the fix shuts them out.
  return new S3jitError("InsecureFile", `${target} ${problem}: run \`${fix}\`, then \`s3jit logout\` once the daemon runs, to rotate the endpoint tokens`);
}
