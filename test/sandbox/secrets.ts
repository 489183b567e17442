import { randomBytes, randomInt } from "node:crypto";

/**
 * Every secret the sandbox hands out passes through here, so a test can grep logs, audit lines
 * and files for any of them: a leak check is only as good as the list it checks against.
 */
export class SecretLedger {
  private readonly values = new Set<string>();

  /** Records `value` as secret and returns it, so minting reads `x = ledger.keep(random())`. */
  keep(value: string): string {
    this.values.add(value);
    return value;
  }

  list(): string[] {
    return [...this.values];
  }
}

const KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
// User codes avoid vowels and look-alike characters, as real device-code pages do.
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

function pick(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Temporary credentials' key ids start with ASIA, as real STS/SSO ones do. */
export function newAccessKeyId(): string {
  return `ASIA${pick(KEY_ID_ALPHABET, 16)}`;
}

export function newSecretAccessKey(): string {
  return randomBytes(30).toString("base64");
}

export function newSessionToken(): string {
  return `IQoJb3JpZ2luX2Vj${randomBytes(96).toString("base64")}`;
}

/** An opaque bearer value (tokens, client secrets, device codes). */
export function newOpaque(prefix: string, bytes = 48): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

export function newUserCode(): string {
  return `${pick(USER_CODE_ALPHABET, 4)}-${pick(USER_CODE_ALPHABET, 4)}`;
}

export function newHexId(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString("hex").slice(0, length);
}
