#!/usr/bin/env bash
# The Debian packages the test suite needs. Installed with apt-get when we are root;
# otherwise we stop and name them. Tests that need them are never skipped.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || missing+=(libharfbuzz-subset0)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi

# The end-to-end deployment test (tests/e2e): Debian's nginx and redis-server, openssl for its certificate.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The systemd units of deploy/ are checked with systemd-analyze (tests/e2e/test_units.py).
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages the tests need: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "The tests need these Debian packages, which are missing: ${missing[*]}" >&2
  echo "Install them (sudo apt-get install ${missing[*]}) and run make test again." >&2
  exit 1
fi
