#!/usr/bin/env bash
# Tools for `make bench` (bench/run.py): wrk drives HTTP load, pgbench (postgresql-client)
# measures the database ceiling. Idempotent and quiet; run as root on Debian.
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v pgbench >/dev/null 2>&1 || missing+=(postgresql-client)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
