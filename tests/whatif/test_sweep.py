"""Sweeps equal point evaluations; cliffs; charts in PNG, SVG and the terminal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from eligibility import Engine
from eligibility.errors import EligibilityError
from eligibility.explain.chart import terminal_chart, write_chart
from eligibility.sweep import parse_range, sweep
from eligibility.whatif import ChangeError, apply_changes
from tests.conftest import household
from tests.whatif.conftest import AS_OF

INCOME = "members[0].income_month"


def test_sweep_equals_point_evaluations(engine: Engine) -> None:
    facts = household()
    result = sweep(engine, facts, INCOME, Decimal(0), Decimal(20000), Decimal(1250), AS_OF, "en")
    assert [p.value for p in result.points] == [Decimal(1250) * i for i in range(17)]
    for point in result.points:
        decision = engine.evaluate(apply_changes(facts, {INCOME: point.value}), as_of=AS_OF)
        for m in decision.measures:
            cell = point.measures[m.id]
            assert (cell.status, cell.amount) == (m.status, m.amount)
    cliffs = [c for c in result.cliffs if c.measure == "bostotte"]
    assert len(cliffs) == 1 and cliffs[0].kind == "status"
    assert (cliffs[0].previous_value, cliffs[0].value) == (Decimal(16250), Decimal(17500))


def test_range_parsing(engine: Engine) -> None:
    assert parse_range(engine, "members[0].income_month=0..1000", "250") == (
        INCOME, Decimal(0), Decimal(1000), Decimal(250))
    path, lo, hi, step = parse_range(engine, "members[0].age=10..20", None)
    assert (path, lo, hi, step) == ("members[0].age", 10, 20, 1)
    for spec, message in [("members[0].income_month=0-10", "FROM..TO"),
                          ("housing.tenure=a..b", "only number"),
                          ("members[0].income_month=5..x", "an amount")]:
        with pytest.raises(ChangeError, match=message):
            parse_range(engine, spec, "1")
    with pytest.raises(ChangeError, match="too many"):
        sweep(engine, household(), INCOME, Decimal(0), Decimal(10**6), Decimal(1), AS_OF)
    with pytest.raises(ChangeError, match="upwards"):
        sweep(engine, household(), INCOME, Decimal(10), Decimal(0), Decimal(1), AS_OF)


def test_charts(engine: Engine, tmp_path: Path) -> None:
    result = sweep(engine, household(), INCOME, Decimal(0), Decimal(20000), Decimal(2000),
                   AS_OF, "nb")
    png, svg = tmp_path / "s.png", tmp_path / "s.svg"
    write_chart(result, png)
    write_chart(result, svg)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()
    with pytest.raises(EligibilityError, match=r"\.png or \.svg"):
        write_chart(result, tmp_path / "s.gif")
    lines = terminal_chart(result, width=40)
    strip = next(line for line in lines if line.startswith("Bostøtte"))
    # eligible up to 16 000, not from 18 000: 9 full blocks then 2 dots
    assert strip.endswith("█" * 9 + "··")


def test_a_spent_budget_gives_a_partial_sweep(engine: Engine) -> None:
    facts = household()
    spent = sweep(engine, facts, INCOME, Decimal(0), Decimal(20000), Decimal(1250), AS_OF,
                  "en", budget=1e-9)
    assert spent.partial and spent.points == []
    full = sweep(engine, facts, INCOME, Decimal(0), Decimal(20000), Decimal(1250), AS_OF, "en")
    assert not full.partial and len(full.points) == 17
