import { it } from "vitest";
import { decide, gate } from "./requires.js";

/**
 * Run by test/helpers/requires.test.ts in a child vitest (its name keeps it out of the suite): a
 * suite whose need is missing here (boto3, pretended), and a test whose need is present.
 */
const missing = gate(decide({ boto3: "/usr/bin/python3 cannot import boto3 (pretended)" }, process.env.S3JIT_TEST_WITHOUT));
missing.describe("a suite that needs boto3", () => {
  it("reads an object with boto3", () => {});
  it("lists a bucket with boto3", () => {});
});

const present = gate(decide({ "systemd-analyze": undefined }, process.env.S3JIT_TEST_WITHOUT));
present.it("a test that needs systemd-analyze", () => {});
