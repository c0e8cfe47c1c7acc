#!/usr/bin/env bash
# The project's test command: lint, type-check, check the bundled pack (static checks,
# cases, invariants), then the test suite. Run it after `bash scripts/setup.sh`
# (.ci/run does both). Under CI (CI=true) the pack's invariants are searched with
# 2 000 generated households each; locally with the pack's default (200), or set
# ELIGIBILITY_EXAMPLES. scripts/wheel-check.sh proves the built wheel works alone
# (clean venv, no extras, empty folder); set ELIGIBILITY_SKIP_WHEEL=1 to skip it locally.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin
examples="${ELIGIBILITY_EXAMPLES:-}"
if [ -z "$examples" ] && [ "${CI:-}" = "true" ]; then examples=2000; fi
"$PY/ruff" check src tests bench
"$PY/mypy"
"$PY/eligibility" check rules/no --coverage ${examples:+--examples "$examples"}
if [ "${ELIGIBILITY_SKIP_WHEEL:-}" != "1" ]; then bash scripts/wheel-check.sh; fi
"$PY/python" -m pytest -p no:cacheprovider "$@"
