/** Faults tests inject into named actions: an error answer, a delay, or a dropped connection. */
export interface Fault {
  /** The operation name, e.g. "GetScopedCredentials", "CreateToken", "GetRoleCredentials". */
  action: string;
  status?: number;
  code?: string;
  message?: string;
  /** How many of the next calls of `action` it hits (default 1). */
  times?: number;
  /** Wait this long before answering (alone: then answer normally). */
  delayMs?: number;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
}

/** What a fault asks the server to do with one request. */
export interface FaultPlan {
  delayMs: number;
  reset: boolean;
  /** Present when the request must fail with this error instead of being handled. */
  error?: { status?: number; code?: string; message?: string };
}

interface Armed {
  fault: Fault;
  left: number;
}

export class FaultQueue {
  private readonly armed: Armed[] = [];

  inject(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!fault.action || !(times >= 1)) throw new Error("sandbox: a fault needs an action and times >= 1");
    this.armed.push({ fault, left: times });
  }

  /** Consumes one use of the oldest fault armed for `action`. */
  take(action: string): FaultPlan | undefined {
    const index = this.armed.findIndex((a) => a.fault.action === action);
    if (index < 0) return undefined;
    const armed = this.armed[index]!;
    if (--armed.left <= 0) this.armed.splice(index, 1);
    const { status, code, message, delayMs = 0, reset = false } = armed.fault;
    const isError = status !== undefined || code !== undefined || message !== undefined || (delayMs === 0 && !reset);
    return { delayMs, reset, ...(isError ? { error: { status, code, message } } : {}) };
  }
}
