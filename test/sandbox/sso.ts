import { createHash } from "node:crypto";
import { SANDBOX_USER, type SandboxContext } from "./context.js";
import { header, jsonResponse, restJsonError, type SandboxRequest, type SandboxResponse } from "./http.js";
import type { OidcService } from "./sso-oidc.js";

/** The IAM Identity Center portal (restJson1): role credentials for a signed-in user. */

function unauthorized(): SandboxResponse {
  return restJsonError(401, "UnauthorizedException", "Session token not found or invalid");
}

/** A stable per-role suffix, like the random one in real `AWSReservedSSO_<set>_<hex>` role names. */
function reservedRoleName(roleName: string): string {
  return `AWSReservedSSO_${roleName}_${createHash("sha256").update(roleName).digest("hex").slice(0, 16)}`;
}

function roleId(roleName: string): string {
  return `AROA${createHash("sha256").update(`id:${roleName}`).digest("hex").slice(0, 17).toUpperCase()}`;
}

export function handleSso(ctx: SandboxContext, oidc: OidcService, action: string, req: SandboxRequest): SandboxResponse {
  const accessToken = header(req, "x-amz-sso_bearer_token");
  if (action === "Logout") {
    // Logout of an unknown or expired token is not an error in IAM Identity Center either.
    if (accessToken !== undefined) oidc.logout(accessToken);
    return { status: 200, headers: {}, body: "" };
  }
  if (!oidc.sessionFor(accessToken)) return unauthorized();
  const accountId = req.query.get("account_id") ?? "";
  const account = ctx.accounts[accountId];
  switch (action) {
    case "ListAccounts":
      return jsonResponse(200, {
        accountList: Object.keys(ctx.accounts).map((id) => ({ accountId: id, accountName: `sandbox-${id}`, emailAddress: `aws+${id}@example.com` })),
      });
    case "ListAccountRoles":
      if (!account) return restJsonError(403, "ForbiddenException", "No access");
      return jsonResponse(200, { roleList: account.roles.map((roleName) => ({ roleName, accountId })) });
    default: {
      const roleName = req.query.get("role_name") ?? "";
      if (!account || !account.roles.includes(roleName)) return restJsonError(403, "ForbiddenException", "No access");
      const session = ctx.registry.mint({
        kind: "sso-role",
        expiresAt: ctx.now() + ctx.roleCredentialsTtlSeconds * 1000,
        accountId,
        arn: `arn:aws:sts::${accountId}:assumed-role/${reservedRoleName(roleName)}/${SANDBOX_USER}`,
        userId: `${roleId(roleName)}:${SANDBOX_USER}`,
        roleName,
      });
      return jsonResponse(200, {
        roleCredentials: {
          accessKeyId: session.accessKeyId,
          secretAccessKey: session.secretAccessKey,
          sessionToken: session.sessionToken,
          // Epoch milliseconds: unlike STS, the portal does not send an ISO date.
          expiration: session.expiresAt,
        },
      });
    }
  }
}
