#!/usr/bin/env bash
# Install the Debian packages that the deployment tests (tests/deploy/) and the UI's browser
# tests (web/e2e/) need, only when missing.
#
#   promtool  <- prometheus                 (check and unit-test the alert rules)
#   amtool    <- prometheus-alertmanager    (check the Alertmanager routing example)
#   nginx     <- nginx-light                (nginx -t on the edge configuration)
#   pgbouncer <- pgbouncer                  (start the pooler with deploy/pgbouncer/)
#   systemd-analyze <- systemd              (verify deploy/systemd/; present on most hosts)
#   chromium  <- chromium                   (the UI's browser tests, make web-e2e)
#
# Usage: tools/ci_system_packages.sh        (as root, or with sudo available)
#
# Quiet when everything is present (one `command -v` per tool, no network). When something is
# missing it runs `apt-get update` once, installs only the missing packages without their
# recommended extras, and keeps the installed daemons from starting: the tests start their own
# copies on free ports. Exits non-zero if apt-get fails, so CI stops with apt's message.
set -euo pipefail

# tool on PATH (or in /usr/sbin, where Debian puts nginx and pgbouncer) -> Debian package
declare -A PACKAGE_OF=(
  [promtool]=prometheus
  [amtool]=prometheus-alertmanager
  [nginx]=nginx-light
  [pgbouncer]=pgbouncer
  [systemd-analyze]=systemd
  [chromium]=chromium
)

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

missing=()
for tool in "${!PACKAGE_OF[@]}"; do
  have "$tool" || missing+=("${PACKAGE_OF[$tool]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "ci_system_packages: missing ${missing[*]} and not root (no sudo): install them" >&2
  exit 1
fi

# A package's maintainer script must not start its daemon (port 80, 9090, 9093, 6432 on the
# test machine): policy-rc.d answering 101 forbids it. Keep an existing policy; remove ours.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
# Another apt-get on the machine (an engineer installing something) holds the dpkg lock for a
# while: wait for it rather than fail.
wait_lock=(-o DPkg::Lock::Timeout=600)
echo "ci_system_packages: installing ${missing[*]}" >&2
apt-get "${wait_lock[@]}" update -qq >/dev/null
# debconf's note that apt-utils is missing is noise: drop it, keep every other message.
apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  2> >(grep -v '^debconf: delaying package configuration' >&2)
