import type { AwsCredentials } from "../types.js";
import { UpstreamError } from "../errors.js";
import { upstream } from "../sso/api.js";

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
}

export interface Minter {
  mint(req: MintRequest): Promise<Minted>;
}

type StsModule = typeof import("@aws-sdk/client-sts");

/**
 * STS over the real SDK, imported lazily. One client per base credentials would churn sockets,
 * so one client per region is kept and the credentials are passed per call.
 */
export class AwsMinter implements Minter {
  private mod?: Promise<StsModule>;

  async mint(req: MintRequest): Promise<Minted> {
    this.mod ??= import("@aws-sdk/client-sts");
    const sts = await this.mod;
    const client = new sts.STSClient({
      region: req.region,
      credentials: { accessKeyId: req.base.accessKeyId, secretAccessKey: req.base.secretAccessKey, sessionToken: req.base.sessionToken },
    });
    try {
      if (req.roleArn) {
        const out = await client.send(
          new sts.AssumeRoleCommand({
            RoleArn: req.roleArn,
            RoleSessionName: req.roleSessionName ?? "s3jit",
            Policy: req.policy,
            DurationSeconds: req.durationSeconds,
            ...(req.sourceIdentity ? { SourceIdentity: req.sourceIdentity } : {}),
          }),
        );
        return toMinted(out.Credentials, out.AssumedRoleUser?.Arn ?? req.roleArn, out.$metadata.requestId);
      }
      const out = await client.send(
        new sts.GetScopedCredentialsCommand({
          Policy: req.policy,
          DurationSeconds: req.durationSeconds,
          ScopedSessionDescription: req.description.slice(0, 256),
        }),
      );
      return toMinted(out.Credentials, out.SessionInfo?.Arn ?? "", out.$metadata.requestId);
    } catch (err) {
      throw upstream(err);
    } finally {
      client.destroy();
    }
  }
}

function toMinted(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } | undefined,
  arn: string,
  requestId: string | undefined,
): Minted {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw new UpstreamError("STS returned incomplete credentials");
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration.getTime(),
    arn,
    ...(requestId ? { requestId } : {}),
  };
}
