#!/usr/bin/env node
// Reads a vitest JSON report and prints each failed test's name and the command that replays it
// with the run's seed, what the run opted out of (S3JIT_TEST_WITHOUT, test/helpers/requires.ts),
// then the closing line CI judges a run by ("N passed, N failed, N skipped").
import { readFileSync } from "node:fs";
import path from "node:path";

const [, , reportFile, label = "tests"] = process.argv;
let report;
try {
  report = JSON.parse(readFileSync(reportFile, "utf8"));
} catch (err) {
  console.log(`${label}: no test report (${err.message.split("\n")[0]}): the run ended before vitest wrote one`);
  process.exit(0);
}
const seed = process.env.S3JIT_FC_SEED || (process.env.CI ? "20261128" : "the seed printed above");
const failed = [];
for (const file of report.testResults ?? []) {
  const rel = path.relative(process.cwd(), file.name);
  const tests = file.assertionResults ?? [];
  if (file.status === "failed" && !tests.some((t) => t.status === "failed")) failed.push({ file: rel, name: "(the file failed to load or a hook failed)" });
  for (const t of tests) if (t.status === "failed") failed.push({ file: rel, name: t.fullName ?? t.title });
}
for (const f of failed) {
  console.log(`FAILED ${f.file} › ${f.name}\n  replay: S3JIT_FC_SEED=${seed} npx vitest run ${f.file} -t ${namePattern(f.name)}`);
}
/** -t takes a regular expression; the name is matched literally, single-quoted for the shell. */
function namePattern(name) {
  const re = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return `'${re.replace(/'/g, "'\\''")}'`;
}
// An opted-out suite's title says "(opted out: S3JIT_TEST_WITHOUT=a,b)": count its tests per name.
const optedOut = new Map((process.env.S3JIT_TEST_WITHOUT ?? "").split(",").map((n) => n.trim()).filter(Boolean).map((n) => [n, 0]));
for (const file of report.testResults ?? []) {
  for (const t of file.assertionResults ?? []) {
    const m = /\(opted out: S3JIT_TEST_WITHOUT=([^)]+)\)/.exec(t.fullName ?? [...(t.ancestorTitles ?? []), t.title].join(" "));
    if (m && t.status !== "passed" && t.status !== "failed") for (const n of m[1].split(",")) optedOut.set(n, (optedOut.get(n) ?? 0) + 1);
  }
}
const plural = (n) => `${n} test${n === 1 ? "" : "s"}`;
console.log(
  optedOut.size === 0
    ? `${label}: opted out: nothing (S3JIT_TEST_WITHOUT unset)`
    : `${label}: opted out: ${[...optedOut].map(([n, count]) => `${n} (S3JIT_TEST_WITHOUT), ${plural(count)} skipped`).join("; ")}`,
);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${label}: ${report.numPassedTests ?? 0} passed, ${report.numFailedTests ?? 0} failed, ${skipped} skipped`);
