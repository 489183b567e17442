import { GetRoleCredentialsCommand, SSOClient } from "@aws-sdk/client-sso";
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from "@aws-sdk/client-sso-oidc";

/** Credentials as an SDK client takes them. */
export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** The SDK clients a test opened, destroyed together after it (each holds its sockets open until then). */
export function sdkClients() {
  const open: { destroy(): void }[] = [];
  return {
    track<T extends { destroy(): void }>(client: T): T {
      open.push(client);
      return client;
    },
    destroyAll(): void {
      for (const c of open.splice(0)) c.destroy();
    },
  };
}

/**
 * Role credentials of the permission set (no session policy), through a real device-code login
 * with the SDK's own clients, against a sandbox that approves user codes by itself.
 */
export async function deviceCodeRoleCredentials(sandboxUrl: string, clientName: string, region = "eu-west-1"): Promise<Creds> {
  const clients = sdkClients();
  try {
    const oidc = clients.track(new SSOOIDCClient({ region, endpoint: sandboxUrl }));
    const client = await oidc.send(new RegisterClientCommand({ clientName, clientType: "public", scopes: ["sso:account:access"] }));
    const ids = { clientId: client.clientId!, clientSecret: client.clientSecret! };
    const device = await oidc.send(new StartDeviceAuthorizationCommand({ ...ids, startUrl: "https://corp.awsapps.com/start" }));
    const token = await oidc.send(new CreateTokenCommand({ ...ids, grantType: "urn:ietf:params:oauth:grant-type:device_code", deviceCode: device.deviceCode! }));
    const sso = clients.track(new SSOClient({ region, endpoint: sandboxUrl }));
    const out = await sso.send(new GetRoleCredentialsCommand({ accessToken: token.accessToken!, accountId: "123456789012", roleName: "S3JitBase" }));
    const c = out.roleCredentials!;
    return { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken! };
  } finally {
    clients.destroyAll();
  }
}
