// AGPL-3.0: a devDependency used by tests only, never by shipped code (DESIGN.md §3).
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { contextStandIn, withContextStandIn } from "../sandbox/kms-context.js";

export type Outcome = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export const SIMULATED_ACCOUNT = "123456789012";

/**
 * What IAM decides for one request of an SSO role session carrying `policy` as its session
 * policy. The SSO role's own policy allows everything, so whatever is refused is refused by the
 * session policy alone; a KMS key also gets a key policy that trusts the account, as real keys
 * have. kms:EncryptionContext:aws:s3:arn goes in under the stand-in key the simulator compares
 * (test/sandbox/kms-context.ts).
 */
export async function simulateSessionPolicy(policy: string, action: string, resource: string, context: Record<string, string>, partition = "aws"): Promise<Outcome> {
  const kms = action.startsWith("kms:");
  const result = await runSimulation(
    {
      request: {
        principal: `arn:${partition}:sts::${SIMULATED_ACCOUNT}:assumed-role/S3JitBase/alice@example.com`,
        action,
        resource: { resource, accountId: SIMULATED_ACCOUNT },
        contextVariables: contextStandIn(context),
      },
      sessionPolicy: withContextStandIn(JSON.parse(policy)),
      identityPolicies: [{ name: "sso-role", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(kms && {
        resourcePolicy: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${SIMULATED_ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }],
        },
      }),
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`simulation error for ${action} ${resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Outcome;
}
