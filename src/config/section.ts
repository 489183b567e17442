import { ConfigError } from "../errors.js";

/** Thrown by a value reader; the Section that called it adds the file and the key. */
export class Invalid extends Error {}

/** Checks one TOML value and turns it into what the config holds, or throws Invalid(reason). */
export type Reader<T> = (value: unknown) => T;

type Table = Record<string, unknown>;

/**
 * One TOML table being read: every error it raises names the config file and the dotted TOML path
 * of the offending key, so the user can find it without guessing.
 */
export class Section {
  private constructor(
    readonly file: string,
    readonly path: string,
    private readonly values: Table,
  ) {}

  /** The document itself; `allowed` and `where` as for child(). */
  static root(file: string, doc: Table, allowed: readonly string[], where: string): Section {
    const root = new Section(file, "", doc);
    root.refuseUnknownKeys(allowed, where);
    return root;
  }

  /** The sub-table at `key`, refusing keys not in `allowed`; `where` says what takes them. */
  child(key: string, allowed: readonly string[], where: string): Section | undefined {
    const child = this.anyChild(key, where);
    child?.refuseUnknownKeys(allowed, where);
    return child;
  }

  /** A table whose keys are names chosen by the user, like the NAMEs of [profile.NAME]. */
  namedChildren(key: string, where: string): Section | undefined {
    return this.anyChild(key, where);
  }

  /** The names of a table of named tables, like the NAME in [profile.NAME]. */
  names(): string[] {
    return Object.keys(this.values);
  }

  has(key: string): boolean {
    return this.values[key] !== undefined;
  }

  optional<T>(key: string, read: Reader<T>): T | undefined {
    const value = this.values[key];
    return value === undefined ? undefined : this.read(this.keyPath(key), value, read);
  }

  required<T>(key: string, read: Reader<T>, whatToSet: string): T {
    const value = this.values[key];
    if (value === undefined) this.fail(key, `missing; set ${whatToSet}`);
    return this.read(this.keyPath(key), value, read);
  }

  /** An array whose items are read one by one, so an error names the item: scope[1]. */
  array<T>(key: string, readItem: Reader<T>, whatItHolds: string): T[] | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) this.fail(key, `must be an array of ${whatItHolds}, not ${describe(value)}`);
    return value.map((item, i) => this.read(`${this.keyPath(key)}[${i}]`, item, readItem));
  }

  keyPath(key: string): string {
    return joinKey(this.path, key);
  }

  fail(key: string, reason: string): never {
    throw new ConfigError(this.file, this.keyPath(key), reason);
  }

  private anyChild(key: string, where: string): Section | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    if (!isTable(value)) this.fail(key, `must be a table (${where}), not ${describe(value)}`);
    return new Section(this.file, this.keyPath(key), value);
  }

  private read<T>(path: string, value: unknown, read: Reader<T>): T {
    try {
      return read(value);
    } catch (err) {
      if (err instanceof Invalid) throw new ConfigError(this.file, path, err.message);
      throw err;
    }
  }

  private refuseUnknownKeys(allowed: readonly string[], where: string): void {
    for (const key of Object.keys(this.values)) {
      if (allowed.includes(key)) continue;
      const near = allowed.find((a) => editDistance(a, key) <= 2);
      const hint = near ? `did you mean ${near}? ` : "";
      this.fail(key, `unknown key; ${hint}${where} takes ${allowed.join(", ")}`);
    }
  }
}

/** TOML's dotted key path: bare keys as they are, anything else quoted ("a.b" is one key). */
export function joinKey(parent: string, key: string): string {
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return parent === "" ? k : `${parent}.${k}`;
}

export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** What a TOML value is, for "must be X, not Y" messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  if (value instanceof Date) return "a date";
  if (Array.isArray(value)) return "an array";
  return "a table";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
