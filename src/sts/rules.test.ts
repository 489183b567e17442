import { describe, expect, it } from "vitest";
import { personOf, scopedDescription, sessionName, sourceIdentityOf } from "./rules.js";

describe("who a mint names (what CloudTrail shows)", () => {
  it.each([
    ["arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_S3JitBase_4dc8eef4c18a84c3/alice@corp.com", "alice@corp.com"],
    ["arn:aws-cn:sts::123456789012:assumed-role/AWSReservedSSO_Read_1/bob", "bob"],
    ["arn:aws-us-gov:sts::123456789012:assumed-role/AWSReservedSSO_Read_1/carol", "carol"],
    // Not an IAM Identity Center session: nobody is named rather than a guess.
    ["arn:aws:sts::123456789012:assumed-role/s3-readonly-jit/s3jit-audit", undefined],
    ["arn:aws:iam::123456789012:user/alice", undefined],
    ["", undefined],
  ])("personOf(%s) is %s", (arn, person) => {
    expect(personOf(arn)).toBe(person);
  });

  it("SourceIdentity and RoleSessionName take only what AWS allows ([\\w+=,.@-]{2,64})", () => {
    expect(sourceIdentityOf("Jane Doe")).toBe("Jane-Doe");
    expect(sourceIdentityOf("jürgen")).toBe("j-rgen");
    expect(sourceIdentityOf("x")).toBeUndefined();
    expect(sourceIdentityOf("a".repeat(80))).toHaveLength(64);
    expect(sessionName("audit", "alice@corp.com")).toBe("alice@corp.com");
    expect(sessionName("audit", "Jane Doe")).toBe("Jane-Doe");
    // No person known (or one AWS would refuse): the profile names the session.
    expect(sessionName("audit")).toBe("s3jit-audit");
    expect(sessionName("a b", "x")).toBe("s3jit-a-b");
  });

  it("the description names the person, then the OS account, then why; at most 256 characters", () => {
    expect(scopedDescription("audit", { who: "jdoe", reason: "INC-1" }, "alice@corp.com")).toBe("s3jit audit for alice@corp.com (jdoe): INC-1");
    expect(scopedDescription("audit", { who: "jdoe", reason: "INC-1" })).toBe("s3jit audit for jdoe: INC-1");
    expect(scopedDescription("audit", { reason: "INC-1" })).toBe("s3jit audit: INC-1");
    expect(scopedDescription("audit", { who: "jdoe", reason: "x".repeat(300) }, "alice")).toHaveLength(256);
  });
});
