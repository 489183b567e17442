import { reasonProblem } from "../control/contract.js";
import { UsageError } from "../errors.js";
import { EXIT, timeLeft, type Deps } from "./io.js";

export interface GrantInput {
  profile: string;
  for?: string;
  reason?: string;
}

export async function run(input: GrantInput, deps: Deps): Promise<number> {
  const badReason = input.reason === undefined ? null : reasonProblem(input.reason);
  if (badReason) throw new UsageError(badReason);
  const w = await deps.client.post<{ profile: string; start: string; end: string; reason: string }>("/v1/grant", {
    profile: input.profile,
    ...(input.for ? { for: input.for } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
    who: deps.io.env.USER ?? deps.io.env.LOGNAME,
  });
  deps.io.out(`window open for ${w.profile} until ${w.end} (${timeLeft(Date.now(), Date.parse(w.end))} left)`);
  return EXIT.ok;
}
