"""End to end on the real Norwegian pack and a bundled persona."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from eligibility import Engine, load_pack
from eligibility.counterfactual import counterfactuals
from eligibility.explain.whynot import why_not
from eligibility.pack.yamlio import load_yaml_file, plain
from eligibility.sweep import sweep
from eligibility.whatif import apply_changes, what_if

ROOT = Path(__file__).resolve().parents[2]
PERSONA = ROOT / "fixtures" / "enslig-oslo-lavinntekt.yaml"
AS_OF = date(2026, 3, 1)
INCOME = "members[0].income_month"
COST = "housing.cost_month"

@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack(ROOT / "rules" / "no"))


def _status(engine: Engine, facts: dict[str, object], path: str, value: Decimal) -> str:
    return engine.evaluate(apply_changes(facts, {path: value}), as_of=AS_OF).measure(
        "bostotte").status


def test_bostotte_limits_on_the_real_pack(engine: Engine) -> None:
    facts = plain(load_yaml_file(PERSONA))
    m = why_not(engine, facts, AS_OF, "nb", "bostotte").measures[0]
    assert m.status == "eligible"
    for path, direction in [(INCOME, "at_or_below"), (COST, "at_or_above")]:
        flip = next(f for f in m.limits if f.path == path)
        assert flip.direction == direction and flip.verified
        t = Decimal(flip.value)
        outside = t + 1 if direction == "at_or_below" else t - 1
        assert _status(engine, facts, path, t) == "eligible"
        assert _status(engine, facts, path, outside) == "not_eligible"
    # above the income limit: the threshold is reported the other way round, the same value
    limit = next(f for f in m.limits if f.path == INCOME).value
    rich = apply_changes(facts, {INCOME: Decimal(limit) + 5000})
    above = why_not(engine, rich, AS_OF, "en", "bostotte").measures[0]
    assert next(f for f in above.thresholds if f.path == INCOME).value == limit
    cf = counterfactuals(engine, rich, "bostotte", AS_OF, "en")
    assert cf.solutions[0].changes[0].after == limit


def test_what_if_and_sweep_on_the_real_pack(engine: Engine) -> None:
    facts = plain(load_yaml_file(PERSONA))
    result = what_if(engine, facts, {"members[+]": {"age": 3, "role": "child"}}, AS_OF, "en")
    assert result.diff("bostotte").status_before == "eligible"
    sw = sweep(engine, facts, INCOME, Decimal(0), Decimal(40000), Decimal(4000), AS_OF)
    for point in sw.points[::3]:
        d = engine.evaluate(apply_changes(facts, {INCOME: point.value}), as_of=AS_OF)
        assert {m.id: (m.status, m.amount) for m in d.measures} == {
            k: (c.status, c.amount) for k, c in point.measures.items()}
