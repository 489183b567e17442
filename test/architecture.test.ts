import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ESLint } from "eslint";
import ts from "typescript";
import { ROOT } from "./helpers/stack.js";

/**
 * The shape of DESIGN.md §1, beyond what the lint rules in eslint.config.js see: they check the
 * static imports each file writes, not a dynamic import(), nor what a file reaches through the
 * files it imports. This test puts every dynamic import() of shipped code through the very same
 * rules (ESLint's own, as configured), and follows the run-time imports of the pure rooms.
 */

const SRC = path.join(ROOT, "src");
const rel = (file: string) => path.relative(ROOT, file);
const eslint = new ESLint({ cwd: ROOT });

/** Shipped source files: src/ without tests. */
function shipped(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return shipped(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

interface Import {
  file: string;
  line: number;
  /** null: a dynamic import() whose module is computed, which no rule can check. */
  spec: string | null;
  dynamic: boolean;
  /** False for what TypeScript erases (`import type`, `export type`). */
  runtime: boolean;
}

/** Every import of a file, as TypeScript parses it (an `import("x")` type is an erased one). */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node, spec: string | null, dynamic: boolean, runtime: boolean) =>
    found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, spec, dynamic, runtime });
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, false, !node.importClause?.isTypeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, false, !node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      add(node, arg && ts.isStringLiteralLike(arg) ? arg.text : null, true, true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal.text, false, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The source file a relative import names (`./x.js` is `./x.ts`), if it is one of src/'s. */
function target(i: Import): string | null {
  if (i.spec === null || !i.spec.startsWith(".")) return null;
  const file = path.resolve(path.dirname(i.file), i.spec.replace(/\.js$/, ".ts"));
  return existsSync(file) ? file : null;
}

/** What the lint rules say about `file` importing `spec`: the refusal messages (none: allowed). */
async function refusals(file: string, spec: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import ${JSON.stringify(spec)};\n`, { filePath: file });
  return result!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

const files = shipped();
const imports = files.flatMap(importsOf);

describe("architecture (DESIGN.md §1): what lint cannot see", () => {
  it("finds the shipped source and its dynamic imports", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(imports.filter((i) => i.dynamic).length).toBeGreaterThan(5);
  });

  it("every dynamic import() in shipped code names its module literally (a computed one escapes every rule)", () => {
    expect(imports.filter((i) => i.dynamic && i.spec === null).map((i) => `${rel(i.file)}:${i.line}`)).toEqual([]);
  });

  it("every dynamic import() in shipped code obeys the rules its static imports do", async () => {
    const broken: string[] = [];
    for (const i of imports.filter((i) => i.dynamic && i.spec !== null)) {
      for (const why of await refusals(i.file, i.spec!)) broken.push(`${rel(i.file)}:${i.line} import("${i.spec}"): ${why}`);
    }
    expect(broken).toEqual([]);
  });

  it("broker/, windows/ and policy/ reach no fastify, pino or AWS SDK at run time, not even through other rooms", () => {
    const forbidden = /^(fastify|pino)(\/|$)|^@(aws-sdk|smithy)\//;
    const byFile = new Map<string, Import[]>();
    for (const i of imports) byFile.set(i.file, [...(byFile.get(i.file) ?? []), i]);
    const broken: string[] = [];
    for (const roomName of ["broker", "windows", "policy"]) {
      // Breadth first from the room's files, remembering how each file was reached.
      const via = new Map<string, string | null>();
      const queue = files.filter((f) => f.startsWith(path.join(SRC, roomName) + path.sep));
      for (const f of queue) via.set(f, null);
      const chain = (f: string | null | undefined): string[] => (f ? [...chain(via.get(f)), rel(f)] : []);
      while (queue.length) {
        const file = queue.shift()!;
        for (const i of byFile.get(file) ?? []) {
          if (!i.runtime || i.spec === null) continue;
          if (!i.spec.startsWith(".")) {
            if (forbidden.test(i.spec)) broken.push(`${roomName}/: ${[...chain(file), i.spec].join(" → ")}`);
            continue;
          }
          const next = target(i);
          if (next && !via.has(next)) {
            via.set(next, file);
            queue.push(next);
          }
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

// Shipped files that only tests use today, reported to the room that owns them (issue 12).
const ONLY_TESTS_REACH = new Map([
  ["src/config/example.ts", "only config/load.test.ts imports it: a test fixture belongs under test/"],
]);

describe("the build ships the product and nothing else", () => {
  it("every shipped file is reached from the executable's entry point (a file only tests reach is a test helper: test/)", () => {
    const byFile = new Map<string, Import[]>();
    for (const i of imports) byFile.set(i.file, [...(byFile.get(i.file) ?? []), i]);
    const reached = new Set<string>();
    // bin/s3jit.js imports dist/cli/main.js, and requires cli/fast.ts's bundle for its quick commands;
    // the daemon forks dist/aws/worker-main.js (its AWS helper process).
    const queue = [path.join(SRC, "cli", "main.ts"), path.join(SRC, "cli", "fast.ts"), path.join(SRC, "aws", "worker-main.ts")];
    for (let file = queue.shift(); file; file = queue.shift()) {
      if (reached.has(file)) continue;
      reached.add(file);
      for (const i of byFile.get(file) ?? []) {
        const next = target(i);
        if (next) queue.push(next);
      }
    }
    const unreached = files.filter((f) => !reached.has(f)).map(rel);
    expect(unreached.filter((f) => !ONLY_TESTS_REACH.has(f))).toEqual([]);
  });
});

describe("the import rules refuse what DESIGN.md §1 forbids, and allow what the rooms need", () => {
  const cases: [file: string, spec: string, allowed: boolean][] = [
    ["src/broker/x.ts", "fastify", false],
    ["src/broker/x.ts", "pino", false],
    ["src/broker/x.ts", "@aws-sdk/client-sts", false],
    ["src/broker/x.ts", "../cli/io.js", false],
    ["src/broker/x.ts", "../server/credentials.js", false],
    ["src/broker/x.ts", "../windows/windows.js", true],
    ["src/windows/x.ts", "pino", false],
    ["src/windows/x.ts", "../sso/api.js", false],
    ["src/windows/x.ts", "../platform/files.js", true],
    ["src/policy/x.ts", "@smithy/signature-v4", false],
    ["src/policy/x.ts", "../store/secrets.js", false],
    ["src/cli/x.ts", "../control/contract.js", true],
    ["src/cli/x.ts", "../control/client.js", true],
    ["src/cli/x.ts", "./io.js", true],
    ["src/cli/x.ts", "../errors.js", true],
    ["src/cli/x.ts", "../config/load.js", true],
    ["src/cli/x.ts", "../control/service.js", false],
    ["src/cli/x.ts", "../broker/broker.js", false],
    ["src/cli/x.ts", "../sso/logins.js", false],
    ["src/cli/x.ts", "../store/keytar.js", false],
    ["src/cli/x.ts", "../daemon/run.js", false],
    ["src/cli/x.ts", "@aws-sdk/client-sso", false],
    ["src/cli/main.ts", "../daemon/run.js", true],
    ["src/cli/doctor.ts", "../store/keytar.js", true],
    ["src/daemon/x.ts", "../cli/main.js", false],
    ["src/daemon/x.ts", "../server/control.js", true],
    ["src/server/x.ts", "../sso/logins.js", false],
    ["src/server/x.ts", "../sts/mint.js", false],
    ["src/server/x.ts", "../store/secrets.js", false],
    ["src/server/x.ts", "../control/contract.js", true],
    ["src/config/x.ts", "@cloud-copilot/iam-simulate", false],
    ["src/config/x.ts", "../../test/helpers/stack.js", false],
    ["src/policy/x.test.ts", "@cloud-copilot/iam-simulate", true],
  ];
  it.each(cases)("%s importing %s: allowed %s", async (file, spec, allowed) => {
    const why = await refusals(path.join(ROOT, file), spec);
    expect(why.length === 0, why.join("; ")).toBe(allowed);
  });
});
