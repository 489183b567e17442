import { PolicyInvalidError } from "./errors.js";
import { REGION } from "./names.js";

/**
 * The AWS partition a region belongs to: it decides how every ARN in the policy starts and the
 * DNS suffix of kms:ViaService. A policy written for "aws" in a China or GovCloud region
 * denies every read there, so the partition is derived, never assumed.
 */
export interface Partition {
  /** "aws", "aws-cn" or "aws-us-gov": the second field of every ARN. */
  name: string;
  /** Service DNS names end with this, e.g. "s3.cn-north-1.amazonaws.com.cn". */
  dnsSuffix: string;
}

const PARTITIONS: ReadonlyArray<{ test: RegExp; partition: Partition }> = [
  { test: /^cn-/, partition: { name: "aws-cn", dnsSuffix: "amazonaws.com.cn" } },
  { test: /^us-gov-/, partition: { name: "aws-us-gov", dnsSuffix: "amazonaws.com" } },
];
/** The isolated partitions have DNS suffixes and IAM behaviour s3jit has never been tried on. */
const UNSUPPORTED = /^[a-z]{2}-iso[a-z]*-/;
const COMMERCIAL: Partition = { name: "aws", dnsSuffix: "amazonaws.com" };

/** The partition of `region`; throws PolicyInvalidError for a region s3jit cannot write a policy for. */
export function partitionOf(region: string): Partition {
  if (!REGION.test(region)) throw new PolicyInvalidError(`region ${JSON.stringify(region)} is not an AWS region like "eu-west-1"`, { key: "region" });
  if (UNSUPPORTED.test(region)) {
    throw new PolicyInvalidError(`region ${JSON.stringify(region)} is in an isolated partition; s3jit writes policies for the aws, aws-cn and aws-us-gov partitions only`, {
      key: "region",
    });
  }
  return PARTITIONS.find((p) => p.test.test(region))?.partition ?? COMMERCIAL;
}

/** The partition a KMS key ARN names ("arn:aws-cn:kms:…" → "aws-cn"). */
export function arnPartition(arn: string): string | undefined {
  return /^arn:([a-z-]+):/.exec(arn)?.[1];
}

/** The region a KMS key ARN names. */
export function arnRegion(arn: string): string | undefined {
  return /^arn:[a-z-]+:[a-z0-9-]+:([a-z0-9-]+):/.exec(arn)?.[1];
}
