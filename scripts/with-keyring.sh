#!/usr/bin/env bash
# with-keyring.sh CMD…: run CMD where a Secret Service (the Linux OS keychain) answers, unlocked.
#
# - A desktop session whose keyring already works: CMD runs there, unchanged. Tests then write to
#   the user's real keyring, under service names of their own ("s3jit-test-…"), and remove them.
# - Anywhere else (CI, SSH, containers, a developer without a desktop session): CMD runs inside a
#   private D-Bus session with a fresh gnome-keyring whose "login" collection is created and
#   unlocked with a throwaway password. The keyring's files (XDG_DATA_HOME) and its control socket
#   (XDG_RUNTIME_DIR, else XDG_CACHE_HOME) live in a temporary folder for the daemon alone: a real
#   keyring in HOME, or a user's keyring daemon reachable through XDG_RUNTIME_DIR (an SSH login to
#   a desktop machine), is never read, unlocked or written, and nothing is left behind. CMD itself
#   keeps the caller's environment.
#
# The exit status is CMD's.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARG…]" >&2
  exit 2
fi

# macOS: the login keychain is always there (Keychain Services, no D-Bus).
if [ "$(uname -s)" = Darwin ]; then
  exec "$@"
fi

# Store, read back, clear: a locked keyring answers a lookup with nothing and no error, so only a
# read-back of what was just written shows that the keyring really works.
probe() {
  command -v secret-tool >/dev/null 2>&1 || return 1
  local v="probe-$$-$RANDOM" back
  printf %s "$v" | timeout 5 secret-tool store --label=s3jit-probe service s3jit-probe account "$v" >/dev/null 2>&1 || return 1
  back=$(timeout 5 secret-tool lookup service s3jit-probe account "$v" 2>/dev/null || true)
  timeout 5 secret-tool clear service s3jit-probe account "$v" >/dev/null 2>&1 || true
  [ "$back" = "$v" ]
}

if [ -n "${S3JIT_KEYRING_DIR:-}" ]; then
  # Second stage, inside the private bus: start the keyring and unlock it.
  dir=$S3JIT_KEYRING_DIR
  unset S3JIT_KEYRING_DIR
  mkdir -m 700 "$dir/run"
  printf %s ci-throwaway | XDG_DATA_HOME="$dir/data" XDG_CACHE_HOME="$dir/cache" XDG_RUNTIME_DIR="$dir/run" \
    gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # The daemon may return before it owns org.freedesktop.secrets on the bus. A secret-tool call in
  # that gap makes D-Bus start a second keyring daemon of its own (its service file), in HOME and
  # locked, and every later call fails: wait for ours to own the name first (10 s at most).
  for _ in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.1
  done
  if ! probe; then
    echo "with-keyring: gnome-keyring started but does not store secrets" >&2
    exit 1
  fi
  echo "with-keyring: private D-Bus session with a throwaway unlocked gnome-keyring" >&2
  exec "$@"
fi

# A locked desktop keyring may pop up an unlock prompt here; if nobody answers within the probe's
# timeout, the private keyring below is used instead.
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && probe; then
  echo "with-keyring: using the Secret Service of this session" >&2
  exec "$@"
fi

for tool in dbus-run-session gnome-keyring-daemon secret-tool; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-keyring: $tool is missing: run scripts/setup-system.sh (Debian/Ubuntu packages: dbus gnome-keyring libsecret-tools)" >&2
    exit 1
  fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/s3jit-keyring.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# No exec: the trap must outlive the bus (dbus-run-session ends it, and the keyring with it, when
# CMD exits) to remove the keyring files.
status=0
S3JIT_KEYRING_DIR=$dir dbus-run-session -- bash "$0" "$@" || status=$?
exit "$status"
