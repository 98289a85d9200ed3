#!/usr/bin/env bash
# Makes sure the real servers the tests start are installed, and PostgreSQL is up.
# Runs before every `npm test`; installs only what is missing (needs root or sudo for that).
set -euo pipefail

missing=()
# chromium: the browser tests (test/browser/) drive Debian's build through playwright-core; no browser is downloaded.
for pair in redis-server:redis-server redis-cli:redis-tools haproxy:haproxy memcached:memcached openssl:openssl chromium:chromium; do
  bin=${pair%%:*} pkg=${pair##*:}
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "prereqs: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt run (a second helper, unattended-upgrades) instead of failing on its lock.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PostgreSQL tests use the machine's server with a throwaway database; start it if it is down.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "prereqs: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
fi
exit 0
