/** AWS credentials as the daemon holds them. Secrets: never log these fields. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch milliseconds. */
  expiration: number;
}

/** A minted, scoped session ready to be served. */
export interface Session extends AwsCredentials {
  profile: string;
  accountId: string;
  roleArn: string;
  /** Epoch ms of the window end that the policy was built for. */
  windowEnd: number;
  /** sha256 of the session policy (hex), for audit and cache integrity. */
  policyHash: string;
  requestId?: string;
}
