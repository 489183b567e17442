import type { StsClients } from "./client.js";
import { toMinted } from "./client.js";
import type { MintRequest, Minted, Minter } from "./mint.js";

/**
 * `assume-role` mode: sts:AssumeRole from the SSO role session into `role_arn`. That is role
 * chaining, so AWS allows 900..3600 s whatever the window; the session policy's time condition
 * is what ends the session at the window's end.
 */
export class AssumeRoleMinter implements Minter {
  constructor(private readonly sts: StsClients) {}

  async mint(req: MintRequest): Promise<Minted> {
    const roleArn = req.roleArn;
    if (!roleArn) throw new Error("AssumeRoleMinter needs a role_arn");
    return this.sts.call(req.region, req.base, async (mod, client) => {
      const out = await client.send(
        new mod.AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: req.roleSessionName ?? "s3jit",
          Policy: req.policy,
          DurationSeconds: req.durationSeconds,
          ...(req.sourceIdentity ? { SourceIdentity: req.sourceIdentity } : {}),
        }),
      );
      return toMinted(out, out.AssumedRoleUser?.Arn ?? roleArn);
    });
  }
}
