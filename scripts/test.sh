#!/usr/bin/env bash
# The project's test command: lint, type-check, then the test suite.
# Run it from a clone after `bash scripts/setup.sh` (or let .ci/run do both).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin
"$PY/ruff" check src tests bench
"$PY/mypy"
"$PY/eligibility" check rules/no
"$PY/python" -m pytest -p no:cacheprovider "$@"
