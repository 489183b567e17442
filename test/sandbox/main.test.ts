import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = undefined;
});

async function startCli(args: string[]): Promise<{ url: string; port: number }> {
  // Node with tsx's loader, not tsx's CLI: the CLI relays a SIGTERM to its own child and, when the
  // child has not reported it within 30 ms (a loaded machine), kills it and exits 143.
  child = spawn(process.execPath, ["--import", "tsx", "test/sandbox/main.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, "line")) as [string];
  return JSON.parse(first) as { url: string; port: number };
}

/** A separate SDK process configured only through the AWS_ENDPOINT_URL_* variables, as the daemon is. */
const CLIENT_SCRIPT = `
import { SSOOIDCClient, RegisterClientCommand, StartDeviceAuthorizationCommand, CreateTokenCommand } from "@aws-sdk/client-sso-oidc";
import { SSOClient, GetRoleCredentialsCommand } from "@aws-sdk/client-sso";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
const region = "eu-west-1";
const oidc = new SSOOIDCClient({ region });
const client = await oidc.send(new RegisterClientCommand({ clientName: "t", clientType: "public", scopes: ["sso:account:access"] }));
const ids = { clientId: client.clientId, clientSecret: client.clientSecret };
const device = await oidc.send(new StartDeviceAuthorizationCommand({ ...ids, startUrl: "https://corp.awsapps.com/start" }));
const token = await oidc.send(new CreateTokenCommand({ ...ids, grantType: "urn:ietf:params:oauth:grant-type:device_code", deviceCode: device.deviceCode }));
const role = await new SSOClient({ region }).send(new GetRoleCredentialsCommand({ accessToken: token.accessToken, accountId: "123456789012", roleName: "S3JitBase" }));
const c = role.roleCredentials;
const sts = new STSClient({ region, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } });
const who = await sts.send(new GetCallerIdentityCommand({}));
process.stdout.write(JSON.stringify({ account: who.Account }));
`;

describe("sandbox CLI", () => {
  it("prints its address, serves SDKs pointed at it by AWS_ENDPOINT_URL_*, and exits 0 on SIGTERM, even when it runs late", async () => {
    const { url, port } = await startCli(["--port", "0", "--auto-approve"]);
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const sdk = spawn(process.execPath, ["--input-type=module", "-e", CLIENT_SCRIPT], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        PATH: process.env["PATH"],
        HOME: process.env["HOME"],
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        AWS_ENDPOINT_URL_STS: url,
        AWS_ENDPOINT_URL_SSO: url,
        AWS_ENDPOINT_URL_SSO_OIDC: url,
        AWS_CONFIG_FILE: "/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      },
    });
    let out = "";
    sdk.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const [sdkCode] = (await once(sdk, "exit")) as [number];
    expect(sdkCode).toBe(0);
    expect(JSON.parse(out)).toEqual({ account: "123456789012" });

    const requests = (await (await fetch(`${url}/sandbox/requests`)).json()) as { service: string; action: string; status: number }[];
    expect(requests.filter((r) => r.service !== "sandbox").map((r) => `${r.service}:${r.action}:${r.status}`)).toEqual([
      "sso-oidc:RegisterClient:200",
      "sso-oidc:StartDeviceAuthorization:200",
      "sso-oidc:CreateToken:200",
      "sso:GetRoleCredentials:200",
      "sts:GetCallerIdentity:200",
    ]);

    // As on a loaded machine: the sandbox gets no CPU for a while after the signal arrives. It
    // must still handle it (close, exit 0), however late it runs.
    const exited = once(child!, "exit");
    process.kill(child!.pid!, "SIGSTOP");
    child!.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    process.kill(child!.pid!, "SIGCONT");
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});
