import type { AwsCredentials } from "../types.js";
import { AssumeRoleMinter } from "./assume-role.js";
import { StsClients } from "./client.js";
import { ScopedMinter } from "./scoped.js";

export interface MintRequest {
  region: string;
  base: AwsCredentials;
  policy: string;
  durationSeconds: number;
  /** Shown in CloudTrail: who asked and why. */
  description: string;
  /** assume-role mode only. */
  roleArn?: string;
  roleSessionName?: string;
  sourceIdentity?: string;
}

export interface Minted extends AwsCredentials {
  /** The ARN the session acts as (the role for assume-role, the SSO role session for scoped). */
  arn: string;
  requestId?: string;
  /** Percentage (0-100) of the largest session token STS allows, when STS reports it. */
  sessionTokenUtilization?: number;
}

export interface Minter {
  mint(req: MintRequest): Promise<Minted>;
  /** The ARN the base credentials act as (sts:GetCallerIdentity): it names the person who logged in. */
  whoAmI?(region: string, base: AwsCredentials): Promise<string>;
}

/**
 * The minter the daemon uses: GetScopedCredentials, or AssumeRole where the profile names a
 * role_arn, over one STS client per region shared by both.
 */
export class AwsMinter implements Minter {
  private readonly sts = new StsClients();
  private readonly scoped = new ScopedMinter(this.sts);
  private readonly assumeRole = new AssumeRoleMinter(this.sts);

  mint(req: MintRequest): Promise<Minted> {
    return (req.roleArn ? this.assumeRole : this.scoped).mint(req);
  }

  whoAmI(region: string, base: AwsCredentials): Promise<string> {
    return this.sts.call(region, base, async (mod, client) => (await client.send(new mod.GetCallerIdentityCommand({}))).Arn ?? "");
  }

  /** Closes the STS clients' sockets. */
  destroy(): void {
    this.sts.destroy();
  }
}
