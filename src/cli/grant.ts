import { EXIT, timeLeft, type Deps } from "./io.js";

export interface GrantInput {
  profile: string;
  for?: string;
  reason?: string;
}

export async function run(input: GrantInput, deps: Deps): Promise<number> {
  const w = await deps.client.post<{ profile: string; start: string; end: string; reason: string }>("/v1/grant", {
    profile: input.profile,
    ...(input.for ? { for: input.for } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
    who: deps.io.env.USER ?? deps.io.env.LOGNAME,
  });
  deps.io.out(`window open for ${w.profile} until ${w.end} (${timeLeft(Date.now(), Date.parse(w.end))} left)`);
  return EXIT.ok;
}
