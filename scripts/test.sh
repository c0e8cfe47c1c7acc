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
# Mutation testing of the bundled pack: a seeded sample of 150 of its mutants (every operator
# represented), 20 households per invariant. It scored 61.0 % (83 of 136) when the gate was
# set; the gate leaves a little room for a run the time budget cuts short (docs/testing.md).
"$PY/eligibility" check rules/no --mutants --max 150 --seed 0 --examples 20 --workers 2 \
  --time-budget 240 --fail-under 58
if [ "${ELIGIBILITY_SKIP_WHEEL:-}" != "1" ]; then bash scripts/wheel-check.sh; fi
"$PY/python" -m pytest -p no:cacheprovider "$@"
