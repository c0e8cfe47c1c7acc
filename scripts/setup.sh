#!/usr/bin/env bash
# Create .venv and install eligibility with its test extras; on a fresh machine (as root,
# with apt-get) also Debian's chromium, which the page's browser tests drive through
# Playwright (never `playwright install`: it downloads browsers).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# The docs examples (tests/docs) call the HTTP service with curl.
if ! command -v curl > /dev/null && command -v apt-get > /dev/null; then
    apt-get update -qq && apt-get install -y -qq curl > /dev/null
fi
