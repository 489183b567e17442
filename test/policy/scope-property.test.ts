import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { MAX_POLICY_CHARS, buildSessionPolicy, policySize } from "../../src/policy/build.js";
import { profileToml, SSO_TOML } from "../helpers/config.js";

/**
 * For any scope a user can write — keys in any script included — the config either loads and
 * every policy the daemon will send is one STS accepts (its character set, its size), or the
 * config is refused at load, naming the scope key and the size. Nothing in between: no scope
 * that loads and then fails every mint.
 */

const FILE = "/home/ann/.config/s3jit/config.toml";
const NO_AWS = { awsConfigFile: "/nonexistent/aws-config" };
const STS_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]*$/; // eslint-disable-line no-control-regex -- STS's rule names tab, LF and CR

// ASCII, Latin-1 (accepted by STS as is), and scripts STS only takes as \u escapes (astral too).
const char = fc.constantFrom("a", "z", "0", "9", "/", "-", "_", ".", " ", "é", "ü", "ß", "ø", "レ", "ポ", "ー", "ト", "日", "本", "中", "文", "й", "ж", "ا", "😀", "𝄞");
const prefix = fc.oneof(fc.constant(""), fc.string({ unit: char, minLength: 1, maxLength: 24 }));
const bucket = fc.constantFrom("audit-logs", "reports", "data-lake-prod", "b12", "team.archive");
const entry = fc.record({ bucket, prefix }).map(({ bucket, prefix }) => (prefix === "" ? bucket : `${bucket}/${prefix}`));
const region = fc.constantFrom("eu-west-1", "cn-north-1", "us-gov-west-1");

function configText(scope: string[], region: string, withKey: boolean): string {
  const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
  const key = `arn:${partition}:kms:${region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  return SSO_TOML + profileToml("p", { region, scope, kms_keys: withKey ? [key] : undefined });
}

describe("random scopes, keys in any script", () => {
  it("load and give a policy within STS's character set and size, or are refused at load naming the scope and the size", () => {
    let loaded = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 9 }), region, fc.boolean(), fc.integer({ min: 0, max: 253402300799000 }), (scope, region, withKey, end) => {
        let cfg;
        try {
          cfg = parseConfig(configText(scope, region, withKey), FILE, NO_AWS);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          const e = err as ConfigError;
          expect(e.key).toBe("profile.p.scope");
          expect(e.message).toMatch(/is (\d+) characters, over STS's limit of 2048; the largest part is bucket "[a-z0-9.-]+"/);
          expect(Number(/is (\d+) characters/.exec(e.message)![1])).toBeGreaterThan(MAX_POLICY_CHARS);
          refused++;
          return;
        }
        loaded++;
        const p = cfg.profiles.p!;
        const policy = buildSessionPolicy({ scope: p.scope, region: p.region, kmsKeys: p.kmsKeys, windowEnd: end });
        expect(policy.length).toBeLessThanOrEqual(MAX_POLICY_CHARS);
        expect(policy).toMatch(STS_CHARS);
        expect(policySize(p)).toEqual({ chars: policy.length, limit: MAX_POLICY_CHARS });
        // The escapes are the same document: every scoped prefix is in it, as written.
        const doc = JSON.stringify(JSON.parse(policy));
        for (const { bucket } of p.scope) expect(doc).toContain(`:s3:::${bucket}/`);
        const longest = p.scope.reduce((a, b) => (b.prefix.length > a.prefix.length ? b : a));
        if (!p.scope.some((s) => s.bucket === longest.bucket && s.prefix !== longest.prefix && longest.prefix.startsWith(s.prefix))) {
          expect(doc).toContain(`:s3:::${longest.bucket}/${longest.prefix}*`);
        }
      }),
      { numRuns: 300 },
    );
    // Both outcomes happen: the property is not vacuous on either side.
    expect(loaded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
