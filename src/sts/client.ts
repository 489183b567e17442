import { AsyncLocalStorage } from "node:async_hooks";
import { RegionalClients } from "../aws/clients.js";
import { call, fromSts } from "../aws/errors.js";
import { UpstreamError } from "../errors.js";
import type { AwsCredentials } from "../types.js";
import type { Minted } from "./mint.js";

type StsModule = typeof import("@aws-sdk/client-sts");
type StsClient = InstanceType<StsModule["STSClient"]>;

/**
 * STS, one client per region; every call is signed with the base credentials it is given. The
 * SDK binds credentials to a client, not to a call, so the client's credential provider reads
 * them from the call's async context instead.
 */
export class StsClients {
  private readonly caller = new AsyncLocalStorage<AwsCredentials>();
  private inFlight = 0;
  private readonly clients = new RegionalClients<StsModule, StsClient>(
    () => import("@aws-sdk/client-sts"),
    (mod, region) => new mod.STSClient({ region, credentials: this.callerCredentials() }),
  );

  /** Runs `fn` with the region's client, signing its calls with `base`; errors come back translated. */
  async call<T>(region: string, base: AwsCredentials, fn: (mod: StsModule, client: StsClient) => Promise<T>): Promise<T> {
    const { mod, client } = await this.clients.get(region);
    this.inFlight++;
    try {
      return await call(() => this.caller.run(base, () => fn(mod, client)), fromSts);
    } finally {
      // Before Node 24, a storage once run keeps a promise hook on every promise the process makes
      // (the endpoint's cached path included: about twice the cost per promise). Disabled between
      // calls; the next run() enables it again.
      if (--this.inFlight === 0) this.caller.disable();
    }
  }

  destroy(): void {
    this.clients.destroy();
  }

  private callerCredentials() {
    const provider = async () => {
      const base = this.caller.getStore();
      if (!base) throw new Error("an STS call was made without base credentials");
      return { accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey, sessionToken: base.sessionToken, expiration: new Date(base.expiration) };
    };
    // The SDK caches what a provider returns unless the provider says it caches itself. Each call
    // brings its own base credentials, so nothing may carry over from one call to the next.
    return Object.assign(provider, { memoized: true });
  }
}

interface StsCredentials {
  AccessKeyId?: string | undefined;
  SecretAccessKey?: string | undefined;
  SessionToken?: string | undefined;
  Expiration?: Date | undefined;
}

/** What both STS answers share, checked and turned into s3jit's shape. */
export function toMinted(
  out: { Credentials?: StsCredentials | undefined; SessionTokenUtilization?: number | undefined; $metadata: { requestId?: string | undefined } },
  arn: string,
): Minted {
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw new UpstreamError("STS returned incomplete credentials");
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration.getTime(),
    arn,
    ...(out.$metadata.requestId ? { requestId: out.$metadata.requestId } : {}),
    ...(out.SessionTokenUtilization !== undefined ? { sessionTokenUtilization: out.SessionTokenUtilization } : {}),
  };
}
