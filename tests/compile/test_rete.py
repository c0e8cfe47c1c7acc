"""The rete backend (durable_rules): held to the reference, isolated in child processes.

Everything that runs durable_rules' C engine runs in a child process
(``rete_differential.py``, ``rete_probe.py``, the CLI), so a segfault fails a test instead
of killing pytest. What needs no durable_rules (compiling the network, refusing a
construct, the errors when the backend is unavailable) runs here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility import Engine, load_pack
from eligibility.cli import app
from eligibility.compile import rete
from eligibility.compile.pack import compile_pack
from eligibility.compile.rete.network import compile_network
from eligibility.errors import PackError

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NO_DURABLE = sys.version_info >= (3, 13)
needs_durable = pytest.mark.skipif(
    NO_DURABLE, reason="durable-rules 2.0.28 does not import on Python >= 3.13")


def child(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a Python child process from the repository root; never raise on its failure."""
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return child("-c", "from eligibility.cli import main; main()", *args)


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    crashed = f" (killed by signal {-proc.returncode})" if proc.returncode < 0 else ""
    return f"exit {proc.returncode}{crashed}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


# -- held to the reference (child processes) ---------------------------------------
@needs_durable
@pytest.mark.parametrize(("pack", "examples"), [("rules/no", 120), ("tests/packs/mini", 80)])
def test_rete_matches_reference_on_generated_households(pack: str, examples: int) -> None:
    proc = child(str(HERE / "rete_differential.py"), pack, str(examples))
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.startswith("checked "), explain(proc)
    households, updates = (int(w) for w in proc.stdout.split() if w.isdigit())
    assert households >= examples and updates >= examples // 2, proc.stdout


@needs_durable
def test_every_case_of_rules_no_passes_with_check_backend_rete() -> None:
    proc = cli("check", "rules/no", "--backend", "rete", "--no-properties")
    assert proc.returncode == 0, explain(proc)
    cases = len(list((ROOT / "rules" / "no" / "cases").glob("*.yaml")))
    assert f"cases: {cases} passed, 0 failed" in proc.stdout.replace("\n", " "), explain(proc)


@needs_durable
def test_every_fixture_gives_the_same_statuses_and_amounts() -> None:
    proc = child(str(HERE / "rete_probe.py"), "fixtures")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.startswith("ok 6 fixtures"), explain(proc)


@needs_durable
def test_evaluate_backend_rete_prints_the_reference_decision() -> None:
    fixture = "fixtures/familie-utkastelse.yaml"
    proc = cli("evaluate", fixture, "--backend", "rete", "--json", "--as-of", "2026-01-15")
    assert proc.returncode == 0, explain(proc)
    got = json.loads(proc.stdout)
    want = json.loads(cli("evaluate", fixture, "--json", "--as-of", "2026-01-15").stdout)
    assert got["measures"] == want["measures"]
    assert got["missing_facts"] == want["missing_facts"]
    assert any(m["status"] == "eligible" for m in got["measures"])


@needs_durable
def test_sessions_are_cleaned_after_every_evaluation() -> None:
    # 1 500 evaluations: past durable's ~1 024 live sessions if any were left behind
    proc = child(str(HERE / "rete_probe.py"), "cleanup", "1500")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.startswith("ok 1500 evaluations"), explain(proc)


@needs_durable
def test_threads_share_one_rete_engine_behind_the_lock() -> None:
    proc = child(str(HERE / "rete_probe.py"), "threads")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.startswith("ok 400 households from 4 threads"), explain(proc)


# -- compilation and errors (no durable_rules needed) -------------------------------
def test_network_of_rules_no_fits_durable_rules() -> None:
    pack = load_pack(ROOT / "rules" / "no")
    compiled = compile_pack(pack)
    net = compile_network(pack, compiled.criteria_fns,
                          {cm.measure.id: cm.lets for cm in compiled.measures})
    assert 0 < len(net.rules) <= 450
    assert set(net.actions) == set(net.rules)
    # every boolean criterion has a truth node; numeric ones are Python's
    bools = {c.id for c in pack.criteria if c.expr.type.kind == "bool"}
    assert set(net.criteria_nodes) == bools
    # every requirement has an outcome and every measure with requirements a status rule
    targets = {a.target for a in net.actions.values()}
    for m in net.measures:
        assert f"s.{m.id}" in targets
        assert all(r.outcome in targets for r in m.requirements)


def test_unsupported_condition_is_a_load_time_error_with_file_and_line(
        pack_copy: Callable[..., Path]) -> None:
    path = pack_copy({"measures/botilbud.yaml": [
        ("when: situation.homeless",
         "when: if situation.homeless then household.registered else false")]})
    pack = load_pack(path)
    compiled = compile_pack(pack)
    with pytest.raises(PackError) as info:
        compile_network(pack, compiled.criteria_fns,
                        {cm.measure.id: cm.lets for cm in compiled.measures})
    (diag,) = info.value.diagnostics
    assert diag.file.endswith("measures/botilbud.yaml")
    assert diag.line == 9
    assert "if-then-else used as a condition" in diag.message
    assert "if situation.homeless" in diag.message


@needs_durable
def test_check_backend_rete_reports_the_construct_with_file_and_line(
        pack_copy: Callable[..., Path]) -> None:
    # the network is compiled before anything reaches durable_rules' engine
    path = pack_copy({"measures/botilbud.yaml": [
        ("when: situation.homeless", "when: if situation.homeless then true else false")]})
    result = CliRunner().invoke(app, ["check", str(path), "--backend", "rete"])
    assert result.exit_code == 1
    assert "measures/botilbud.yaml:9:" in result.output
    assert "cannot compile an if-then-else used as a condition" in result.output


def test_in_over_decimals_is_refused(pack_copy: Callable[..., Path]) -> None:
    path = pack_copy({"measures/botilbud.yaml": [
        ("when: situation.homeless", "when: housing.cost_month in [1.5, 2]")]})
    pack = load_pack(path)
    compiled = compile_pack(pack)
    with pytest.raises(PackError, match="not text or whole-number literals"):
        compile_network(pack, compiled.criteria_fns,
                        {cm.measure.id: cm.lets for cm in compiled.measures})


def test_backend_without_the_extra_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch, mini_pack: object) -> None:
    monkeypatch.setitem(sys.modules, "durable", None)  # import durable -> ImportError
    monkeypatch.setitem(sys.modules, "durable.engine", None)
    with pytest.raises(rete.BackendUnavailable, match=r"pip install 'eligibility\[rete\]'"):
        Engine(mini_pack, backend="rete")  # type: ignore[arg-type]


def test_backend_on_python_313_is_a_clear_error() -> None:
    with pytest.raises(rete.BackendUnavailable, match=r"does not import on Python 3\.13"):
        rete.require_durable((3, 13, 0))
    rete.require_durable((3, 12, 7))  # durable-rules is installed with the test extra


def test_unknown_backend_is_refused(mini_pack: object) -> None:
    with pytest.raises(ValueError, match="unknown backend 'drools'"):
        Engine(mini_pack, backend="drools")  # type: ignore[arg-type]
    result = CliRunner().invoke(app, ["check", str(ROOT / "tests" / "packs" / "mini"),
                                      "--backend", "drools"])
    assert result.exit_code == 2
    assert "--backend must be one of reference, rete" in result.output
