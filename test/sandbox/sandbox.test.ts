import { createHash, randomBytes } from "node:crypto";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand, ListAccountRolesCommand, LogoutCommand, SSOClient } from "@aws-sdk/client-sso";
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from "@aws-sdk/client-sso-oidc";
import { AssumeRoleCommand, GetCallerIdentityCommand, GetScopedCredentialsCommand, STSClient } from "@aws-sdk/client-sts";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { sdkClients, type Creds } from "../helpers/sdk-clients.js";
import { startSandbox, type Sandbox, type SandboxOptions } from "./server.js";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const ROLE = "S3JitBase";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::audit-logs/*" }],
});

let sandbox: Sandbox;
let clock: ManualClock;
const { track, destroyAll } = sdkClients();

async function start(opts: SandboxOptions = {}): Promise<void> {
  await sandbox?.close();
  clock = new ManualClock();
  sandbox = await startSandbox({ now: () => clock.now(), ...opts });
}

const oidc = (): SSOOIDCClient => track(new SSOOIDCClient({ region: REGION, endpoint: sandbox.url }));
const sso = (): SSOClient => track(new SSOClient({ region: REGION, endpoint: sandbox.url }));
const sts = ({ accessKeyId, secretAccessKey, sessionToken }: Creds, maxAttempts = 3): STSClient =>
  track(new STSClient({ region: REGION, endpoint: sandbox.url, credentials: { accessKeyId, secretAccessKey, sessionToken }, maxAttempts }));

async function register(scopes: string[] = ["sso:account:access"]) {
  const reg = await oidc().send(new RegisterClientCommand({ clientName: "s3jit-test", clientType: "public", scopes }));
  return { clientId: reg.clientId!, clientSecret: reg.clientSecret! };
}

async function startDevice(client: { clientId: string; clientSecret: string }) {
  return oidc().send(new StartDeviceAuthorizationCommand({ ...client, startUrl: "https://corp.awsapps.com/start" }));
}

/** A completed device-code login: the access and refresh token. */
async function login(): Promise<{ accessToken: string; refreshToken?: string; client: { clientId: string; clientSecret: string } }> {
  const client = await register();
  const device = await startDevice(client);
  sandbox.approve(device.userCode!);
  const token = await oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: device.deviceCode! }));
  return { accessToken: token.accessToken!, client, ...(token.refreshToken ? { refreshToken: token.refreshToken } : {}) };
}

async function roleCredentials(accessToken: string): Promise<Creds & { expiration: number }> {
  const out = await sso().send(new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: ROLE }));
  const c = out.roleCredentials!;
  return { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken!, expiration: c.expiration! };
}

async function baseCredentials(): Promise<Creds & { expiration: number }> {
  return roleCredentials((await login()).accessToken);
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  destroyAll();
  await sandbox.close();
});

describe("SSO-OIDC device code login", () => {
  it("answers AuthorizationPending until the user code is approved, then issues tokens", async () => {
    const client = await register();
    const device = await startDevice(client);
    expect(device.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(device.verificationUriComplete).toContain(device.userCode);
    expect(device.interval).toBeGreaterThan(0);
    const poll = () => oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: device.deviceCode! }));

    await expect(poll()).rejects.toMatchObject({ name: "AuthorizationPendingException", $metadata: { httpStatusCode: 400 } });
    sandbox.approve(device.userCode!);
    const token = await poll();

    expect(token.tokenType).toBe("Bearer");
    expect(token.expiresIn).toBe(8 * 3600);
    expect(token.accessToken).toBeTruthy();
    expect(token.refreshToken).toBeTruthy();
    expect(sandbox.count("CreateToken")).toBe(2);
    // A device code is good for one token only.
    await expect(poll()).rejects.toMatchObject({ name: "InvalidGrantException" });
  });

  it("approves over HTTP too, and a fake browser opening verificationUriComplete approves", async () => {
    const client = await register();
    const a = await startDevice(client);
    const b = await startDevice(client);
    const approved = await fetch(`${sandbox.url}/sandbox/approve`, { method: "POST", body: JSON.stringify({ userCode: a.userCode }) });
    expect(approved.status).toBe(200);
    expect((await fetch(b.verificationUriComplete!)).status).toBe(200);
    for (const d of [a, b]) {
      await expect(oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: d.deviceCode! }))).resolves.toHaveProperty("accessToken");
    }
    expect((await fetch(`${sandbox.url}/sandbox/approve`, { method: "POST", body: JSON.stringify({ userCode: "NOPE-NOPE" }) })).status).toBe(404);
    expect(() => sandbox.approve("NOPE-NOPE")).toThrow();
  });

  it("refuses a denied code, an expired code and a wrong client secret", async () => {
    const client = await register();
    const denied = await startDevice(client);
    await fetch(`${sandbox.url}/sandbox/deny`, { method: "POST", body: JSON.stringify({ userCode: denied.userCode }) });
    await expect(oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: denied.deviceCode! }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });

    const late = await startDevice(client);
    clock.advance((late.expiresIn! + 1) * 1000);
    sandbox.approve(late.userCode!);
    await expect(oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: late.deviceCode! }))).rejects.toMatchObject({
      name: "ExpiredTokenException",
    });

    await expect(
      oidc().send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: "wrong", grantType: DEVICE_GRANT, deviceCode: late.deviceCode! })),
    ).rejects.toMatchObject({ name: "InvalidClientException", $metadata: { httpStatusCode: 401 } });
  });

  it("auto-approves on the first poll when asked to", async () => {
    await start({ autoApprove: true });
    const client = await register();
    const device = await startDevice(client);
    const token = await oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: device.deviceCode! }));
    expect(token.accessToken).toBeTruthy();
    expect(sandbox.count("CreateToken")).toBe(1);
  });

  it("surfaces an injected SlowDown to the poller", async () => {
    await start({ autoApprove: true });
    const client = await register();
    const device = await startDevice(client);
    sandbox.inject({ action: "CreateToken", code: "SlowDownException" });
    const poll = () => oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: device.deviceCode! }));
    await expect(poll()).rejects.toMatchObject({ name: "SlowDownException", $metadata: { httpStatusCode: 400 } });
    await expect(poll()).resolves.toHaveProperty("accessToken");
  });
});

describe("SSO-OIDC refresh and PKCE", () => {
  it("rotates refresh tokens: the new one works, the old one is refused", async () => {
    const { refreshToken, client } = await login();
    const refresh = (token: string) => oidc().send(new CreateTokenCommand({ ...client, grantType: "refresh_token", refreshToken: token }));
    const next = await refresh(refreshToken!);
    expect(next.accessToken).toBeTruthy();
    expect(next.refreshToken).toBeTruthy();
    expect(next.refreshToken).not.toBe(refreshToken);
    await expect(refresh(refreshToken!)).rejects.toMatchObject({ name: "InvalidGrantException" });
    await expect(refresh(next.refreshToken!)).resolves.toHaveProperty("accessToken");
  });

  it("issues no refresh token to a client registered without scopes", async () => {
    const client = await register([]);
    const device = await startDevice(client);
    sandbox.approve(device.userCode!);
    const token = await oidc().send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: device.deviceCode! }));
    expect(token.accessToken).toBeTruthy();
    expect(token.refreshToken).toBeUndefined();
  });

  it("runs authorization code + PKCE against a loopback redirect", async () => {
    const redirectUri = "http://127.0.0.1:45678/oauth/callback";
    const reg = await oidc().send(
      new RegisterClientCommand({
        clientName: "s3jit-test",
        clientType: "public",
        scopes: ["sso:account:access"],
        grantTypes: ["authorization_code", "refresh_token"],
        redirectUris: [redirectUri],
        issuerUrl: "https://corp.awsapps.com/start",
      }),
    );
    expect(reg.authorizationEndpoint).toBe(`${sandbox.url}/authorize`);
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const authorize = new URL(reg.authorizationEndpoint!);
    for (const [k, v] of Object.entries({
      response_type: "code",
      client_id: reg.clientId!,
      redirect_uri: redirectUri,
      state: "st4te",
      code_challenge_method: "S256",
      code_challenge: challenge,
      scopes: "sso:account:access",
    })) {
      authorize.searchParams.set(k, v);
    }
    const redirect = await fetch(authorize, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const callback = new URL(redirect.headers.get("location")!);
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get("state")).toBe("st4te");
    const code = callback.searchParams.get("code")!;
    const client = { clientId: reg.clientId!, clientSecret: reg.clientSecret! };

    await expect(
      oidc().send(new CreateTokenCommand({ ...client, grantType: "authorization_code", code, redirectUri, codeVerifier: "not-the-verifier" })),
    ).rejects.toMatchObject({ name: "InvalidGrantException" });
    const token = await oidc().send(new CreateTokenCommand({ ...client, grantType: "authorization_code", code, redirectUri, codeVerifier: verifier }));
    expect(token.accessToken).toBeTruthy();
    expect(token.refreshToken).toBeTruthy();
  });
});

describe("SSO portal", () => {
  it("returns role credentials whose expiration is epoch milliseconds", async () => {
    const { accessToken } = await login();
    const creds = await roleCredentials(accessToken);
    expect(creds.expiration).toBe(clock.now() + 3600 * 1000);
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    const roles = await sso().send(new ListAccountRolesCommand({ accessToken, accountId: ACCOUNT }));
    expect(roles.roleList).toEqual([{ roleName: ROLE, accountId: ACCOUNT }]);
    const recorded = sandbox.requests.find((r) => r.action === "GetRoleCredentials");
    expect(recorded).toMatchObject({ service: "sso", params: { role_name: ROLE, account_id: ACCOUNT }, status: 200 });
  });

  it("refuses unknown roles (403), bad and expired tokens (401), and tokens after logout", async () => {
    const { accessToken, refreshToken, client } = await login();
    await expect(sso().send(new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: "Admin" }))).rejects.toMatchObject({
      name: "ForbiddenException",
      $metadata: { httpStatusCode: 403 },
    });
    await expect(sso().send(new GetRoleCredentialsCommand({ accessToken: "nope", accountId: ACCOUNT, roleName: ROLE }))).rejects.toMatchObject({
      name: "UnauthorizedException",
      $metadata: { httpStatusCode: 401 },
    });

    await sso().send(new LogoutCommand({ accessToken }));
    await expect(roleCredentials(accessToken)).rejects.toMatchObject({ name: "UnauthorizedException" });
    await expect(oidc().send(new CreateTokenCommand({ ...client, grantType: "refresh_token", refreshToken: refreshToken! }))).rejects.toMatchObject({
      name: "InvalidGrantException",
    });

    const second = await login();
    clock.advance(8 * 3600 * 1000);
    await expect(roleCredentials(second.accessToken)).rejects.toMatchObject({ name: "UnauthorizedException" });
  });

  it("honours accessTokenTtlSeconds and roleCredentialsTtlSeconds", async () => {
    await start({ accessTokenTtlSeconds: 60, roleCredentialsTtlSeconds: 900 });
    const { accessToken } = await login();
    expect((await roleCredentials(accessToken)).expiration).toBe(clock.now() + 900 * 1000);
    clock.advance(60 * 1000);
    await expect(roleCredentials(accessToken)).rejects.toMatchObject({ name: "UnauthorizedException" });
  });
});

describe("STS GetScopedCredentials", () => {
  it("mints a session with the policy; never past its parent's expiry", async () => {
    const base = await baseCredentials();
    const short = await sts(base).send(new GetScopedCredentialsCommand({ Policy: POLICY, DurationSeconds: 600, ScopedSessionDescription: "s3jit audit" }));
    expect(short.Credentials!.Expiration!.getTime()).toBe(clock.now() + 600 * 1000);
    expect(sandbox.sessionPolicy(short.Credentials!.AccessKeyId!)).toBe(POLICY);
    expect(short.SessionInfo!.ScopedSessionId).toBeTruthy();

    // Asking for 36 h from 1 h role credentials: "can never outlive its parent", and real STS
    // rejects such a request rather than shortening it.
    await expect(sts(base).send(new GetScopedCredentialsCommand({ Policy: POLICY, DurationSeconds: 129_600 }))).rejects.toMatchObject({
      name: "InsufficientSessionLifetimeException",
      $metadata: { httpStatusCode: 400 },
    });
    // Without DurationSeconds the session inherits the parent's remaining life.
    const inherited = await sts(base).send(new GetScopedCredentialsCommand({ Policy: POLICY }));
    expect(inherited.Credentials!.Expiration!.getTime()).toBe(Math.floor(base.expiration / 1000) * 1000);

    const recorded = sandbox.requests.filter((r) => r.action === "GetScopedCredentials");
    expect(recorded[0]).toMatchObject({ service: "sts", accessKeyId: base.accessKeyId, status: 200, params: { Policy: POLICY, DurationSeconds: "600" } });
  });

  it("keeps the caller's identity: GetCallerIdentity with the minted credentials", async () => {
    const base = await baseCredentials();
    const baseId = await sts(base).send(new GetCallerIdentityCommand({}));
    expect(baseId.Account).toBe(ACCOUNT);
    expect(baseId.Arn).toMatch(new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_${ROLE}_[0-9a-f]+/`));
    const minted = (await sts(base).send(new GetScopedCredentialsCommand({ Policy: POLICY, DurationSeconds: 900 }))).Credentials!;
    const scoped = { accessKeyId: minted.AccessKeyId!, secretAccessKey: minted.SecretAccessKey!, sessionToken: minted.SessionToken! };
    const scopedId = await sts(scoped).send(new GetCallerIdentityCommand({}));
    expect(scopedId.Arn).toBe(baseId.Arn);
    expect(sandbox.requests.at(-1)).toMatchObject({ action: "GetCallerIdentity", accessKeyId: scoped.accessKeyId, status: 200 });
  });

  it.each([
    ["DurationSeconds 0", { Policy: POLICY, DurationSeconds: 0 }, "ValidationError", 400],
    ["DurationSeconds over 36 h", { Policy: POLICY, DurationSeconds: 129_601 }, "ValidationError", 400],
    ["a policy over 2048 characters", { Policy: POLICY.replace("audit-logs", "a".repeat(2048)), DurationSeconds: 900 }, "PackedPolicyTooLargeException", 400],
    ["a policy that is not JSON", { Policy: "{not json", DurationSeconds: 900 }, "MalformedPolicyDocumentException", 400],
    ["a description over 256 characters", { Policy: POLICY, ScopedSessionDescription: "x".repeat(257) }, "ValidationError", 400],
  ])("refuses %s", async (_what, input, name, status) => {
    const base = await baseCredentials();
    await expect(sts(base).send(new GetScopedCredentialsCommand(input))).rejects.toMatchObject({ name, $metadata: { httpStatusCode: status } });
  });
});

describe("STS AssumeRole", () => {
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/s3-readonly-jit`;

  it("chains from the SSO role within 900..3600 s and reports the assumed role", async () => {
    const base = await baseCredentials();
    const out = await sts(base).send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: "s3jit-audit",
        Policy: POLICY,
        DurationSeconds: 900,
        SourceIdentity: "sandbox-user",
        Tags: [{ Key: "s3jit:window-end", Value: "2026-11-28T10:30:00Z" }],
      }),
    );
    expect(out.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/s3-readonly-jit/s3jit-audit`);
    expect(out.AssumedRoleUser!.AssumedRoleId).toMatch(/^AROA[0-9A-F]+:s3jit-audit$/);
    expect(out.SourceIdentity).toBe("sandbox-user");
    expect(out.Credentials!.Expiration!.getTime()).toBe(clock.now() + 900 * 1000);
    expect(sandbox.sessionPolicy(out.Credentials!.AccessKeyId!)).toBe(POLICY);
    expect(sandbox.requests.at(-1)!.params).toMatchObject({
      RoleSessionName: "s3jit-audit",
      DurationSeconds: "900",
      "Tags.member.1.Key": "s3jit:window-end",
    });

    const max = await sts(base).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "s3jit-audit", DurationSeconds: 3600 }));
    expect(max.Credentials!.Expiration!.getTime()).toBe(clock.now() + 3600 * 1000);
  });

  it.each([899, 3601])("refuses DurationSeconds %i (role chaining limits)", async (DurationSeconds) => {
    const base = await baseCredentials();
    await expect(sts(base).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "s3jit", DurationSeconds }))).rejects.toMatchObject({
      name: "ValidationError",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("refuses a role in an account the sandbox does not know", async () => {
    const base = await baseCredentials();
    await expect(
      sts(base).send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::999999999999:role/x", RoleSessionName: "s3jit" })),
    ).rejects.toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
  });
});

describe("STS authentication", () => {
  it("refuses a signature made with the wrong secret", async () => {
    const base = await baseCredentials();
    const forged = { ...base, secretAccessKey: `${base.secretAccessKey.slice(0, -2)}xx` };
    await expect(sts(forged, 1).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
  });

  it("refuses a body altered after signing", async () => {
    const base = await baseCredentials();
    const url = new URL(sandbox.url);
    const request = new HttpRequest({
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      headers: { host: url.host, "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    class Sha256 extends Hash {
      constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
        super("sha256", secret);
      }
    }
    const credentials = { accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey, sessionToken: base.sessionToken };
    const signer = new SignatureV4({ credentials, region: REGION, service: "sts", sha256: Sha256 });
    const signed = await signer.sign(request);
    const send = (body: string) => fetch(sandbox.url, { method: "POST", headers: signed.headers as Record<string, string>, body });
    const good = await send(signed.body as string);
    expect(good.status).toBe(200);
    const tampered = await send("Action=GetCallerIdentity&Version=2011-06-15&x=1");
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("refuses keys it never issued and a session token that is not the key's", async () => {
    const base = await baseCredentials();
    const unknown = { ...base, accessKeyId: "ASIAAAAAAAAAAAAAAAAA" };
    await expect(sts(unknown, 1).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "InvalidClientTokenId", $metadata: { httpStatusCode: 403 } });
    const other = await baseCredentials();
    const mixed = { ...base, sessionToken: other.sessionToken };
    await expect(sts(mixed, 1).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "InvalidClientTokenId" });
  });

  it("refuses expired credentials with ExpiredToken", async () => {
    const base = await baseCredentials();
    clock.advance(3600 * 1000);
    await expect(sts(base, 1).send(new GetScopedCredentialsCommand({ Policy: POLICY, DurationSeconds: 60 }))).rejects.toMatchObject({
      name: "ExpiredToken",
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe("fault injection", () => {
  it("an injected Throttling is retried by the SDK; one that outlasts the retries reaches the caller", async () => {
    const base = await baseCredentials();
    sandbox.inject({ action: "GetCallerIdentity", code: "Throttling" });
    await expect(sts(base).send(new GetCallerIdentityCommand({}))).resolves.toHaveProperty("Account", ACCOUNT);
    expect(sandbox.requests.filter((r) => r.action === "GetCallerIdentity").map((r) => r.status)).toEqual([400, 200]);

    sandbox.inject({ action: "GetScopedCredentials", code: "Throttling", message: "Rate exceeded", times: 2 });
    await expect(sts(base, 2).send(new GetScopedCredentialsCommand({ Policy: POLICY, DurationSeconds: 60 }))).rejects.toMatchObject({
      name: "Throttling",
      message: "Rate exceeded",
      $metadata: { httpStatusCode: 400, attempts: 2 },
    });
  });

  it("delays and resets connections", async () => {
    const base = await baseCredentials();
    sandbox.inject({ action: "GetCallerIdentity", delayMs: 300 });
    const started = Date.now();
    await sts(base, 1).send(new GetCallerIdentityCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    sandbox.inject({ action: "GetCallerIdentity", reset: true });
    await expect(sts(base, 1).send(new GetCallerIdentityCommand({}))).rejects.toThrow();
    expect(sandbox.requests.at(-1)).toMatchObject({ action: "GetCallerIdentity", status: 0 });
  });

  it("injects over HTTP for other processes", async () => {
    const base = await baseCredentials();
    const res = await fetch(`${sandbox.url}/sandbox/inject`, {
      method: "POST",
      body: JSON.stringify({ action: "GetRoleCredentials", status: 500 }),
    });
    expect(res.status).toBe(200);
    const { accessToken } = await login();
    await expect(
      track(new SSOClient({ region: REGION, endpoint: sandbox.url, maxAttempts: 1 })).send(
        new GetRoleCredentialsCommand({ accessToken, accountId: ACCOUNT, roleName: ROLE }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(base.accessKeyId).toBeTruthy();
  });
});

describe("bookkeeping", () => {
  it("lists every secret it issued", async () => {
    const { accessToken, refreshToken, client } = await login();
    const base = await roleCredentials(accessToken);
    const minted = (await sts(base).send(new GetScopedCredentialsCommand({ Policy: POLICY, DurationSeconds: 60 }))).Credentials!;
    const secrets = sandbox.issuedSecrets();
    for (const s of [accessToken, refreshToken!, client.clientSecret, base.secretAccessKey, base.sessionToken, minted.SecretAccessKey!, minted.SessionToken!]) {
      expect(secrets).toContain(s);
    }
    expect(secrets).not.toContain(base.accessKeyId);
  });

  it("moves its clock over HTTP and lists requests", async () => {
    const before = clock.now();
    const res = await fetch(`${sandbox.url}/sandbox/clock`, { method: "POST", body: JSON.stringify({ advanceMs: 5000 }) });
    expect(await res.json()).toEqual({ now: before + 5000 });
    const listed = (await (await fetch(`${sandbox.url}/sandbox/requests`)).json()) as { action: string }[];
    expect(listed.map((r) => r.action)).toEqual(["AdvanceClock", "Requests"]);
  });

  it("sends anything else to the S3 handler (s3.test.ts covers what it answers)", async () => {
    const base = await baseCredentials();
    const credentials = { accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey, sessionToken: base.sessionToken };
    const s3 = track(new S3Client({ region: REGION, endpoint: sandbox.url, forcePathStyle: true, credentials, maxAttempts: 1 }));
    await expect(s3.send(new GetObjectCommand({ Bucket: "audit-logs", Key: "2026/report.csv" }))).rejects.toMatchObject({
      name: "NoSuchKey",
      $metadata: { httpStatusCode: 404 },
    });
    expect(sandbox.requests.at(-1)).toMatchObject({ service: "s3", action: "GetObject", accessKeyId: base.accessKeyId, status: 404 });
  });
});
