#!/usr/bin/env bash
# Create .venv and install eligibility with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# The docs examples (tests/docs) call the HTTP service with curl.
if ! command -v curl > /dev/null && command -v apt-get > /dev/null; then
    apt-get update -qq && apt-get install -y -qq curl > /dev/null
fi
