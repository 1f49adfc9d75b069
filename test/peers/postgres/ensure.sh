#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the PostgreSQL tests (user
# postgres, trust auth for local connections, as Debian's default cluster on this machine kind
# is set up). Starts Debian's cluster when it is installed but stopped; installs Debian's
# postgresql package when it is missing (apt-get, as root). Elsewhere, point the tests at a
# server of your own with CONDUIT_TEST_POSTGRES=postgres://user@host:port/database.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then
  echo "PostgreSQL answers on 127.0.0.1:5432"
  exit 0
fi
if ! command -v pg_ctlcluster >/dev/null; then
  echo "PostgreSQL is not installed: installing Debian's postgresql package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -V | tail -1)
  # A test server: trust for connections from this machine, as on this machine kind.
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >"/etc/postgresql/$version/main/pg_hba.conf"
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
echo "starting PostgreSQL $version (cluster main)"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  if ready; then
    echo "PostgreSQL answers on 127.0.0.1:5432"
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2
exit 1
