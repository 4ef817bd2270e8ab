#!/usr/bin/env bash
# Debian's chromium for the admin/API-docs browser test (tests/system/test_browser.py).
# Playwright drives it via executable_path; `playwright install` is never run.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
/usr/bin/chromium --version
