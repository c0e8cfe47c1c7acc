#!/usr/bin/env bash
# The main job: set up (if needed) and evaluate a bundled household against the
# bundled Norwegian pack. Extra arguments go to `eligibility evaluate`
# (e.g. --lang en, --as-of 2026-07-01, --json, or another fixture file first).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/eligibility ] || bash scripts/setup.sh
file="fixtures/familie-utkastelse.yaml"
if [ $# -gt 0 ] && [ -f "$1" ]; then file="$1"; shift; fi
exec .venv/bin/eligibility evaluate "$file" --pack rules/no "$@"
