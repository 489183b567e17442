import { describe, expect, it } from "vitest";
import { AwsSsoApi, type Registration } from "./api.js";

const REG: Registration = { clientId: "c", clientSecret: "s", expiresAt: 0, flow: "pkce" };

describe("the PKCE authorize page follows the SDK's own SSO-OIDC endpoint", () => {
  it("AWS_ENDPOINT_URL_SSO_OIDC wins over AWS_ENDPOINT_URL and over what RegisterClient named", () => {
    const api = new AwsSsoApi(Date.now, { AWS_ENDPOINT_URL_SSO_OIDC: "http://127.0.0.1:4566/", AWS_ENDPOINT_URL: "http://127.0.0.1:9/" });
    expect(api.authorizationEndpoint("eu-west-1", { ...REG, authorizationEndpoint: "https://elsewhere.example/authorize" })).toBe("http://127.0.0.1:4566/authorize");
    expect(new AwsSsoApi(Date.now, { AWS_ENDPOINT_URL: "http://127.0.0.1:9" }).authorizationEndpoint("eu-west-1", REG)).toBe("http://127.0.0.1:9/authorize");
  });

  it("without an override: RegisterClient's answer, else the region's oidc host; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is honoured", () => {
    const plain = new AwsSsoApi(Date.now, {});
    expect(plain.authorizationEndpoint("eu-west-1", REG)).toBe("https://oidc.eu-west-1.amazonaws.com/authorize");
    expect(plain.authorizationEndpoint("eu-west-1", { ...REG, authorizationEndpoint: "https://oidc.eu-west-1.amazonaws.com/authorize" })).toBe("https://oidc.eu-west-1.amazonaws.com/authorize");
    const ignoring = new AwsSsoApi(Date.now, { AWS_ENDPOINT_URL_SSO_OIDC: "http://127.0.0.1:4566", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" });
    expect(ignoring.authorizationEndpoint("us-east-2", REG)).toBe("https://oidc.us-east-2.amazonaws.com/authorize");
  });
});
