#!/usr/bin/env bash
# The README's test command (npm run test:all): system packages, node modules, then the whole
# suite where a real OS keychain (Secret Service) answers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec bash scripts/with-keyring.sh npm test
