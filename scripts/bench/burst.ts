/**
 * The cold burst: N first requests at once, each on its own new connection (as N separate SDK
 * processes would), fired the moment the grant returns. A 503 is retried after its Retry-After
 * (the JS SDK's container provider would retry no sooner), until every request holds credentials.
 */
import http from "node:http";

export interface BurstResult {
  requests: number;
  /** Status of each request's first attempt. */
  first: { ok: number; pending503: number; other: number };
  /** All attempts, retries included. */
  attempts: number;
  retried: number;
  /** From the burst's start until the last request held credentials. */
  allServedMs: number;
  /** The slowest first attempt (a request that waited on the mint). */
  slowestFirstMs: number;
  distinctKeys: number;
  failed: number;
}

interface Answer {
  status: number;
  retryAfterS: number;
  accessKeyId?: string;
}

function get(url: string, authorization: string): Promise<Answer> {
  return new Promise((resolve) => {
    // agent: false — a new connection per request, like first requests from many processes.
    const req = http.get(url, { agent: false, headers: { authorization } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        let accessKeyId: string | undefined;
        if (res.statusCode === 200) accessKeyId = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { AccessKeyId?: string }).AccessKeyId;
        resolve({ status: res.statusCode ?? 0, retryAfterS: Number(res.headers["retry-after"] ?? 1) || 1, ...(accessKeyId ? { accessKeyId } : {}) });
      });
    });
    req.on("error", () => resolve({ status: 0, retryAfterS: 1 }));
  });
}

export async function coldBurst(url: string, authorization: string, n: number, maxAttempts = 10): Promise<BurstResult> {
  const start = performance.now();
  const first = { ok: 0, pending503: 0, other: 0 };
  let attempts = 0;
  let retried = 0;
  let slowestFirstMs = 0;
  const keys = new Set<string>();
  let failed = 0;

  async function one(): Promise<void> {
    for (let i = 0; i < maxAttempts; i++) {
      const t = performance.now();
      const a = await get(url, authorization);
      attempts++;
      if (i === 0) {
        slowestFirstMs = Math.max(slowestFirstMs, performance.now() - t);
        if (a.status === 200) first.ok++;
        else if (a.status === 503) first.pending503++;
        else first.other++;
      }
      if (a.status === 200) {
        if (a.accessKeyId) keys.add(a.accessKeyId);
        return;
      }
      if (a.status !== 503 && a.status !== 0) break;
      retried++;
      await new Promise((r) => setTimeout(r, a.retryAfterS * 1000));
    }
    failed++;
  }

  await Promise.all(Array.from({ length: n }, one));
  return { requests: n, first, attempts, retried, allServedMs: performance.now() - start, slowestFirstMs, distinctKeys: keys.size, failed };
}
