import type { StsClients } from "./client.js";
import { toMinted } from "./client.js";
import type { MintRequest, Minted, Minter } from "./mint.js";

/** CloudTrail keeps at most this much of ScopedSessionDescription. */
const DESCRIPTION_MAX = 256;

/**
 * `scoped` mode: sts:GetScopedCredentials narrows the SSO role session itself. No role chaining,
 * the same identity in CloudTrail, and a session that can never outlive its parent.
 */
export class ScopedMinter implements Minter {
  constructor(private readonly sts: StsClients) {}

  mint(req: MintRequest): Promise<Minted> {
    return this.sts.call(req.region, req.base, async (mod, client) => {
      const out = await client.send(
        new mod.GetScopedCredentialsCommand({
          Policy: req.policy,
          DurationSeconds: req.durationSeconds,
          ScopedSessionDescription: req.description.slice(0, DESCRIPTION_MAX),
        }),
      );
      return toMinted(out, out.SessionInfo?.Arn ?? "");
    });
  }
}
