#!/usr/bin/env bash
# Run a command where a Secret Service (the Linux OS keychain) is reachable and unlocked, as on a
# desktop. Where one already answers (a desktop session), the command runs there. Elsewhere
# (CI, SSH, containers) the command runs inside a private D-Bus session with a throwaway
# gnome-keyring whose files live in a temporary folder: a developer's real keyring is never
# touched, and nothing is left behind.
set -euo pipefail

probe() {
  command -v secret-tool >/dev/null 2>&1 || return 1
  local v="probe-$$-$RANDOM"
  printf %s "$v" | timeout 5 secret-tool store --label=s3jit-probe service s3jit-probe account probe >/dev/null 2>&1 || return 1
  local back
  back=$(timeout 5 secret-tool lookup service s3jit-probe account probe 2>/dev/null || true)
  timeout 5 secret-tool clear service s3jit-probe account probe >/dev/null 2>&1 || true
  [ "$back" = "$v" ]
}

if [ "${S3JIT_KEYRING_INNER:-}" = 1 ]; then
  # Inside the private bus: start the keyring, unlocked with a throwaway password.
  keyring_data=$(mktemp -d)
  trap 'rm -rf "$keyring_data"' EXIT
  eval "$(printf 'ci-throwaway' | XDG_DATA_HOME="$keyring_data" gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
  unset S3JIT_KEYRING_INNER
  if ! probe; then
    echo "with-keyring: gnome-keyring started but is not usable" >&2
    exit 1
  fi
  echo "with-keyring: private D-Bus session with an unlocked throwaway gnome-keyring" >&2
  "$@"
  exit $?
fi

if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && probe; then
  echo "with-keyring: using the Secret Service of this session" >&2
  exec "$@"
fi

for tool in dbus-run-session gnome-keyring-daemon secret-tool; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-keyring: $tool is missing: run scripts/setup-system.sh (Debian/Ubuntu: dbus gnome-keyring libsecret-tools)" >&2
    exit 1
  fi
done
S3JIT_KEYRING_INNER=1 exec dbus-run-session -- bash "$0" "$@"
