#!/usr/bin/env bash
# Prove that the wheel works on its own, outside the source checkout:
#   1. build the wheel from a clean copy of the sources (no stale build/ folder),
#   2. install it into a fresh venv WITHOUT extras and, from an empty temporary
#      folder, run --help, --version, `evaluate` on a fixture, `packs`,
#      load_pack("no") in Python (its content hash must equal rules/no's: the
#      wheel carries the current pack), and check that the optional parts name
#      their extra exactly (check → testing, serve → api),
#   3. add the api extra, start `eligibility serve` and wait for /v1/health;
#      /docs must load its assets from the server itself.
# Uses the pip cache, so a second run takes well under a minute.
# Called by scripts/test.sh; run it alone with: bash scripts/wheel-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
PY="${PYTHON:-$repo/.venv/bin/python}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
step() { echo "wheel-check: $*"; }
fail() { echo "wheel-check: FAILED: $*" >&2; exit 1; }

step "building the wheel from a clean copy of the sources"
mkdir -p "$work/src-copy" "$work/dist" "$work/empty"
cp -a pyproject.toml README.md LICENSE src rules "$work/src-copy/"
find "$work/src-copy" -name __pycache__ -prune -exec rm -rf {} +
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$work/src-copy" \
    2> >(grep -v "is ignored" >&2)
wheel="$(ls "$work"/dist/eligibility-*.whl)"
yaml_in_wheel="$("$PY" -c "import sys, zipfile; print(sum(n.startswith('eligibility/packs/no/') and n.endswith('.yaml') for n in zipfile.ZipFile(sys.argv[1]).namelist()))" "$wheel")"
yaml_in_repo="$(find rules/no -name '*.yaml' | wc -l)"
[ "$yaml_in_wheel" -eq "$yaml_in_repo" ] \
    || fail "the wheel holds $yaml_in_wheel pack files, rules/no has $yaml_in_repo"
"$PY" -c "import sys, zipfile; sys.exit(not any(n.endswith('.dist-info/licenses/LICENSE') for n in zipfile.ZipFile(sys.argv[1]).namelist()))" "$wheel" \
    || fail "the wheel does not carry the LICENSE file"

step "installing $(basename "$wheel") into a clean venv (no extras)"
"$PY" -m venv "$work/venv"
V="$work/venv/bin"
"$V/python" -m pip install --quiet "$wheel" 2> >(grep -v "is ignored" >&2)
"$V/python" -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('hypothesis', 'fastapi', 'uvicorn', 'matplotlib')))" \
    || fail "an optional dependency was installed without its extra"

cd "$work/empty"
step "eligibility --help / --version / packs from an empty folder"
"$V/eligibility" --help | grep -q "evaluate" || fail "--help"
"$V/eligibility" --version | grep -q "^eligibility " || fail "--version"
"$V/eligibility" packs | grep -q "bundled" || fail "packs lists no bundled pack"

step "evaluate a fixture with the bundled pack"
out="$("$V/eligibility" evaluate "$repo/fixtures/enslig-oslo-lavinntekt.yaml" --as-of 2026-07-01 --lang en)"
echo "$out" | grep -q "Housing allowance" || fail "evaluate: no bostøtte line"$'\n'"$out"
echo "$out" | grep -q "NOK/month" || fail "evaluate: no amount"$'\n'"$out"

step "load_pack(\"no\") in Python carries the current rules/no"
want="$(cd "$repo" && "$PY" -c "from eligibility import load_pack; print(load_pack('rules/no').content_hash)")"
got="$("$V/python" -c "from eligibility import load_pack; p = load_pack('no'); print(p.content_hash)")"
[ "$got" = "$want" ] || fail "load_pack('no') has hash $got, rules/no has $want"
"$V/python" -c "import eligibility, sys; sys.exit('site-packages' not in eligibility.__file__)" \
    || fail "eligibility was not imported from the installed wheel"

step "optional parts name their extra"
set +e
msg="$("$V/eligibility" serve 2>&1)"; code=$?
set -e
[ "$code" -eq 2 ] && echo "$msg" | grep -qF "pip install 'eligibility[api]'" \
    || fail "serve without the api extra: exit $code, $msg"
set +e
msg="$("$V/eligibility" check no --examples 1 2>&1)"; code=$?
set -e
[ "$code" -eq 2 ] && echo "$msg" | grep -qF "pip install 'eligibility[testing]'" \
    || fail "check without the testing extra: exit $code, $msg"
"$V/eligibility" check no --no-properties > /dev/null || fail "check --no-properties"

step "with the api extra: serve and a health check"
"$V/python" -m pip install --quiet "$wheel[api]" 2> >(grep -v "is ignored" >&2)
port="$("$V/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
"$V/eligibility" serve --port "$port" --log-level warning > "$work/serve.log" 2>&1 &
server_pid=$!
"$V/python" - "$port" <<'EOF' || { cat "$work/serve.log" >&2; fail "serve: no healthy answer"; }
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(150):
    try:
        with urllib.request.urlopen(f"{base}/v1/health", timeout=2) as r:
            body = json.load(r)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the service did not answer /v1/health")
assert body.get("status") == "ok", body
with urllib.request.urlopen(f"{base}/docs", timeout=5) as r:
    page = r.read().decode()
assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower(), page
with urllib.request.urlopen(f"{base}/docs-assets/swagger-ui-bundle.js", timeout=5) as r:
    assert r.status == 200
EOF
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
step "ok: the wheel works alone"
