#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian/Ubuntu), and only those missing.
# Idempotent, and silent when everything is present (no apt-get update then).
#   libsecret-1-0      the library keytar (the OS keychain binding) loads
#   gnome-keyring      a Secret Service to test against (scripts/with-keyring.sh)
#   libsecret-tools    secret-tool: the tests' outside witness of what is in the keyring
#   dbus               dbus-run-session (Debian 12 has it in dbus-daemon, which dbus depends on)
#   awscli, python3-boto3  real SDK clients in the compatibility tests
#   systemd            systemd-analyze verify for the user unit
#   zsh, fish          `zsh -n` / `fish -n` check the completion scripts s3jit prints
set -euo pipefail
PACKAGES=(libsecret-1-0 gnome-keyring libsecret-tools dbus awscli python3-boto3 systemd zsh fish)

if [ "$(uname -s)" = Darwin ]; then
  command -v aws >/dev/null 2>&1 && python3 -c "import boto3" 2>/dev/null && exit 0
  echo "setup-system: macOS needs no keyring packages; the SDK tests want the AWS CLI and boto3 (brew install awscli; pip3 install boto3)" >&2
  exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: not a Debian-like system; install the equivalents of: ${PACKAGES[*]}" >&2
  echo "  (libsecret, gnome-keyring, secret-tool, dbus-run-session, AWS CLI, Python boto3, systemd-analyze)" >&2
  exit 0
fi

# "install ok installed" only: a package removed but not purged still answers `dpkg -s`.
installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "setup-system: root (or sudo) is needed to install: ${missing[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
echo "setup-system: installing ${missing[*]}" >&2
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
