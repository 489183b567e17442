#!/usr/bin/env bash
# The README's test command (npm run test:all): system packages, node modules, then the whole
# suite where a real OS keychain (Secret Service) answers, and a summary that says what the run
# opted out of.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# A suite whose need is missing fails unless the run opts out of it by name (test/helpers/requires.ts).
# The real-systemd test installs s3jit into your own user manager, and containers have none: this
# command does without it, by name, unless you say otherwise (S3JIT_TEST_WITHOUT= runs everything).
export S3JIT_TEST_WITHOUT="${S3JIT_TEST_WITHOUT-systemd-user}"
report=$(mktemp -d)
trap 'rm -rf "$report"' EXIT
status=0
bash scripts/with-keyring.sh npm test -- --reporter=default --reporter=json --outputFile.json="$report/vitest.json" || status=$?
node scripts/ci-summary.mjs "$report/vitest.json" "test:all"
exit "$status"
