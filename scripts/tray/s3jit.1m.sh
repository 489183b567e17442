#!/usr/bin/env bash
# <xbar.title>s3jit</xbar.title>
# <xbar.version>v0.1</xbar.version>
# <xbar.desc>Access windows and login state of the s3jit daemon, with grant, revoke and login actions.</xbar.desc>
# <xbar.dependencies>s3jit, node</xbar.dependencies>
# <swiftbar.hideRunInTerminal>true</swiftbar.hideRunInTerminal>
#
# xbar / SwiftBar (macOS) and GNOME Argos (Linux) plugin; the ".1m." in the name refreshes it
# every minute. Menu clicks run this script again with arguments, so the PATH set here serves
# both: menu bar apps start plugins with a bare PATH that has no Homebrew, nvm or npm folders.
set -u
export PATH="${S3JIT_PATH_PREFIX:-}:/opt/homebrew/bin:/usr/local/bin:$HOME/.local/bin:$HOME/.npm-global/bin:$PATH"
S3JIT="${S3JIT_BIN:-s3jit}"

if [ "$#" -gt 0 ]; then
  exec "$S3JIT" "$@"
fi

# The menu's actions call this script (it knows the PATH); s3jit puts it into bash=.
export S3JIT_TRAY_CLI="$0"
if ! command -v "$S3JIT" >/dev/null 2>&1; then
  echo "S3 ?"
  echo "---"
  echo "s3jit not found on PATH: set S3JIT_BIN to its full path in this plugin"
  exit 0
fi
exec "$S3JIT" status --format xbar
