#!/usr/bin/env bash
# The README's test command: system packages, node modules, then the whole suite with a real
# OS keychain (Secret Service) reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
[ -d node_modules ] || npm ci
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash scripts/with-keyring.sh npm test
