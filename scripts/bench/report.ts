/** The results' shape, the goals of issue 8 and the printed table. The benchmark reports; it never asserts. */
import type { BurstResult } from "./burst.js";
import type { LoadResult } from "./load.js";

export interface ServerFigures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median CPU per request (µs): the server's, and the load generator's; null where not measured. */
  serverCpuUs: number | null;
  clientCpuUs: number | null;
  non2xx: number;
  errors: number;
  runs: LoadResult[];
}

export interface BotoFigures {
  n: number;
  totalS: number;
  perCallMs: number;
  p50Ms: number;
  p99Ms: number;
  botocore: string;
}

export interface GoalRow {
  figure: string;
  measured: string;
  goal: string;
  /** null: no goal for this figure, or not measured here. */
  met: boolean | null;
}

export interface Results {
  meta: Record<string, unknown> & { mode: string; tool: string; plan: { idleS: number; manyRequests: number; durationS: number; rounds: number } };
  cached: { connections: number; servers: Record<string, ServerFigures> }[];
  nginxSkipped: string | null;
  burst: BurstResult & { mints: number; roleCredentialCalls: number; grantMs: number; retryPolicy: string };
  boto3: { endpoint: BotoFigures | null; process: BotoFigures | null; skipped?: string };
  footprint: {
    rssStartMb: number | null;
    rssWarmMb: number | null;
    rssAfterManyMb: number | null;
    manyRequests: number;
    manyNon2xx: number;
    rssIdleStartMb: number | null;
    rssAfterIdleMb: number | null;
    idleS: number;
    idleCpuS: number | null;
    windowOpenAfterIdle: boolean;
    /** Median of `startToReadyRunsMs`. */
    startToReadyMs: number;
    startToReadyRunsMs: number[];
    statusMedianMs: number;
    statusRunsMs: number[];
    nodeBareMedianMs: number;
    /** Issue 16: RSS after login, the first mint and 20k requests. */
    rssAfter20kMb: number | null;
    /** spawn → the credentials endpoint answered (median of the starts). */
    startToEndpointMs: number;
    startToEndpointRunsMs: number[];
    /** `node -e 0`, run between the starts. */
    nodeBareAtStartsMedianMs: number;
    /** Medians of interleaved rounds: node (-e 0), env, credential-process, status. */
    cliMedianMs: Record<string, number>;
    cliRunsMs: Record<string, number[]>;
  };
  goals?: GoalRow[];
}

const f = (n: number | null | undefined, digits = 1) => (n === null || n === undefined ? "n/a" : n.toFixed(digits));
const k = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0));

export function goalRows(r: Results): GoalRow[] {
  const rows: GoalRow[] = [];
  for (const level of r.cached) {
    const ours = level.servers["s3jit"];
    const bare = level.servers["node:http"];
    if (!ours || !bare) continue;
    const ratio = ours.rps / bare.rps;
    rows.push({ figure: `cached path, ${level.connections} conn: s3jit / node:http req/s`, measured: `${ratio.toFixed(2)}× (${k(ours.rps)} / ${k(bare.rps)})`, goal: "≥ 0.70×", met: ratio >= 0.7 });
    if (level.connections === 32) rows.push({ figure: "cached path, 32 conn: s3jit p99", measured: `${f(ours.p99Ms, 2)} ms`, goal: "≤ 2 ms", met: ours.p99Ms <= 2 });
  }
  const b = r.burst;
  rows.push({ figure: `cold burst: mints for ${b.requests} first requests`, measured: String(b.mints), goal: "exactly 1", met: b.mints === 1 });
  rows.push({
    figure: `cold burst: all ${b.requests} served`,
    measured: b.failed ? `${b.failed} never served` : `${f(b.allServedMs, 0)} ms (${b.first.ok}×200, ${b.first.pending503}×503 first)`,
    goal: "≤ 2000 ms",
    met: b.failed === 0 && b.allServedMs <= 2000,
  });
  const { endpoint, process: cp } = r.boto3;
  if (endpoint && cp) {
    const ratio = cp.perCallMs / endpoint.perCallMs;
    rows.push({
      figure: "boto3 fetch: credential_process / endpoint",
      measured: `${ratio.toFixed(0)}× (${f(cp.perCallMs, 1)} / ${f(endpoint.perCallMs, 2)} ms per fetch)`,
      goal: "≥ 20×",
      met: ratio >= 20,
    });
  } else rows.push({ figure: "boto3 fetch ratio", measured: r.boto3.skipped ?? "n/a", goal: "≥ 20×", met: null });
  const fp = r.footprint;
  rows.push({ figure: "RSS after start", measured: `${f(fp.rssStartMb)} MB`, goal: "≤ 60 MB", met: fp.rssStartMb === null ? null : fp.rssStartMb <= 60 });
  const growth = fp.rssAfterManyMb !== null && fp.rssStartMb !== null ? fp.rssAfterManyMb - fp.rssStartMb : null;
  const warmGrowth = fp.rssAfterManyMb !== null && fp.rssWarmMb !== null ? fp.rssAfterManyMb - fp.rssWarmMb : null;
  rows.push({
    figure: `RSS after ${k(fp.manyRequests)} requests, over start`,
    measured: `${growth === null ? "n/a" : `+${f(growth)}`} MB (+${f(warmGrowth)} over login+mint)`,
    goal: "≤ +5 MB",
    met: growth === null ? null : growth <= 5,
  });
  rows.push({ figure: `RSS after ${fp.idleS} s idle`, measured: `${f(fp.rssAfterIdleMb)} MB`, goal: "—", met: null });
  const per10min = fp.idleCpuS === null ? null : (fp.idleCpuS * 600) / fp.idleS;
  rows.push({
    figure: `idle CPU, window open (${fp.idleS} s${fp.idleS === 600 ? "" : ", scaled to 10 min"})`,
    measured: `${f(per10min, 3)} s per 10 min`,
    goal: "≤ 0.1 s",
    met: per10min === null ? null : per10min <= 0.1,
  });
  rows.push({ figure: "start-to-ready (spawn → control socket answers, median)", measured: `${f(fp.startToReadyMs, 0)} ms`, goal: "≤ 500 ms", met: fp.startToReadyMs <= 500 });
  rows.push({ figure: "`s3jit status` wall time (median)", measured: `${f(fp.statusMedianMs, 0)} ms (node -e 0: ${f(fp.nodeBareMedianMs, 0)} ms)`, goal: "≤ 200 ms", met: fp.statusMedianMs <= 200 });
  return [...rows, ...issue16Rows(r)];
}

/** Issue 16's figures and goals ("light enough to forget it is running"). */
function issue16Rows(r: Results): GoalRow[] {
  const rows: GoalRow[] = [];
  const at32 = r.cached.find((l) => l.connections === 32);
  const ours = at32?.servers["s3jit"];
  const bare = at32?.servers["node:http"];
  if (ours && bare) {
    const ratio = ours.rps / bare.rps;
    rows.push({ figure: "[16] cached path, 32 conn: s3jit / node:http req/s", measured: `${ratio.toFixed(2)}×`, goal: "≥ 0.80×", met: ratio >= 0.8 });
    // Not a goal of its own: the server's cost without the load generator's share of the cores.
    if (ours.serverCpuUs !== null && bare.serverCpuUs !== null) {
      const cpuRatio = bare.serverCpuUs / ours.serverCpuUs;
      rows.push({ figure: "[16] cached path, 32 conn: by server CPU per request, node:http / s3jit", measured: `${cpuRatio.toFixed(2)}× (${f(bare.serverCpuUs)} / ${f(ours.serverCpuUs)} µs)`, goal: "—", met: null });
    }
    const limit = 1.5 * bare.p99Ms + 1;
    rows.push({ figure: "[16] cached path p99, 32 conn", measured: `${f(ours.p99Ms, 2)} ms (node:http ${f(bare.p99Ms, 2)} ms)`, goal: `≤ 1.5 × bare + 1 = ${f(limit, 2)} ms`, met: ours.p99Ms <= limit });
  }
  const fp = r.footprint;
  if (fp.rssAfter20kMb !== undefined) {
    rows.push({ figure: "[16] RSS after login, a mint and 20k requests", measured: `${f(fp.rssAfter20kMb)} MB`, goal: "≤ 60 MB", met: fp.rssAfter20kMb === null ? null : fp.rssAfter20kMb <= 60 });
  }
  const cli = fp.cliMedianMs;
  if (cli?.node !== undefined) {
    for (const name of ["env", "credential-process", "status"]) {
      const over = cli[name]! - cli.node;
      rows.push({ figure: `[16] \`s3jit ${name}\` over \`node -e 0\` (medians)`, measured: `+${f(over, 0)} ms (${f(cli[name], 0)} / ${f(cli.node, 0)})`, goal: "≤ +40 ms", met: over <= 40 });
    }
  }
  if (fp.startToEndpointMs !== undefined) {
    const over = fp.startToEndpointMs - fp.nodeBareAtStartsMedianMs;
    rows.push({
      figure: "[16] start → endpoint answers (median), over node -e 0",
      measured: `${f(fp.startToEndpointMs, 0)} ms (+${f(over, 0)} over ${f(fp.nodeBareAtStartsMedianMs, 0)})`,
      goal: "≤ node -e 0 + 250 ms",
      met: over <= 250,
    });
  }
  return rows;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function renderTable(r: Results): string {
  const goals = (r.goals ?? goalRows(r)).map((g) => [g.figure, g.measured, g.goal, g.met === null ? "" : g.met ? "met" : "MISSED"]);
  const names = [...new Set(r.cached.flatMap((l) => Object.keys(l.servers)))];
  const cachedRows = r.cached.flatMap((l) =>
    names
      .filter((n) => l.servers[n])
      .map((n) => {
        const s = l.servers[n]!;
        return [String(l.connections), n, k(s.rps), f(s.p50Ms, 3), f(s.p99Ms, 3), f(s.serverCpuUs), f(s.clientCpuUs), s.non2xx || s.errors ? `${s.non2xx} non-2xx, ${s.errors} errors` : ""];
      }),
  );
  const p = r.meta.plan;
  return [
    `s3jit benchmark (${r.meta.mode}; ${r.meta.tool}, ${p.durationS} s per run, median of ${p.rounds} interleaved run(s); ${String(r.meta.cpus)} CPUs, load ${Number(r.meta.loadAverageAtEnd).toFixed(2)} at the end)`,
    "",
    table(["figure", "measured", "goal", ""], goals),
    "",
    "cached path (GET /v1/credentials/<profile>, same JSON bytes everywhere)" + (r.nginxSkipped ? ` — nginx skipped: ${r.nginxSkipped}` : ""),
    "",
    table(["conn", "server", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "client CPU µs/req", ""], cachedRows),
  ].join("\n");
}
