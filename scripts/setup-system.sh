#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian/Ubuntu), and only those missing.
# Idempotent and quiet when everything is present.
set -euo pipefail
PACKAGES=(libsecret-1-0 gnome-keyring libsecret-tools dbus dbus-daemon awscli python3-boto3 systemd)

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: not a Debian-like system. Install these yourself: ${PACKAGES[*]}" >&2
  echo "  (libsecret, gnome-keyring + secret-tool, a D-Bus session bus, AWS CLI v2, Python boto3, systemd-analyze)" >&2
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup-system: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "setup-system: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
