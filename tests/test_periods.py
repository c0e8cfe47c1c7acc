"""Periods: splits at parameter dates, rule valid_from/valid_to, dated facts and monthly
measures; each period's decision equals a point evaluation on any day inside it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, load_pack
from eligibility.errors import AsOfError, FactsError
from eligibility.periods import pack_breakpoints
from tests.conftest import household

EDITS = {
    "parameters/bostotte.yaml": [
        ("  values: {2016-01-01: 50}", "  values: {2016-01-01: 50, 2025-07-01: 60}")],
    "measures/bostotte.yaml": [
        ("kind: right\n", "kind: right\nmonthly: true\n"),
        ("    when: household.registered\n",
         "    when: household.registered\n    valid_to: 2025-03-31\n")],
    "measures/startlan.yaml": [("kind: recommendation\n",
                                "kind: recommendation\nvalid_from: 2025-10-01\n")],
}


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    import shutil
    root = Path(__file__).resolve().parents[1] / "tests" / "packs" / "mini"
    target = tmp_path_factory.mktemp("periods") / "pack"
    shutil.copytree(root, target)
    for rel, edits in EDITS.items():
        path = target / rel
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, (rel, old)
            text = text.replace(old, new, 1)
        path.write_text(text, encoding="utf-8")
    return Engine(load_pack(target))


def changes(result: Any) -> dict[date, set[tuple[str, str, str]]]:
    return {p.start: {(c.kind, c.name, c.effect) for c in p.changes} for p in result.periods}


def test_splits_at_parameter_and_rule_dates(dated: Engine) -> None:
    result = dated.evaluate_period(household(), date(2025, 1, 1), date(2025, 12, 31))
    starts = [p.start for p in result.periods]
    assert starts == [date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1), date(2025, 10, 1)]
    seen = changes(result)
    assert ("requirement", "bostotte.registrert", "ends") in seen[date(2025, 4, 1)]
    assert ("parameter", "bostotte.minste_utbetaling", "changes") in seen[date(2025, 7, 1)]
    assert ("measure", "startlan", "starts") in seen[date(2025, 10, 1)]
    ends = [p.end for p in result.periods]
    assert ends == [date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31)]
    # startlan is not in force before 2025-10-01, then it appears in the decision
    assert "startlan" not in {m.id for m in result.periods[2].decision.measures}
    assert "startlan" in {m.id for m in result.periods[3].decision.measures}
    appeared = {m.id: m for m in result.periods[3].measure_changes}
    assert appeared["startlan"].status_before is None


def test_a_requirement_leaving_force_changes_the_status(dated: Engine) -> None:
    facts = household(household={"kommunegruppe": 4, "registered": False})
    result = dated.evaluate_period(facts, date(2025, 1, 1), date(2025, 6, 30))
    first, second = result.periods
    assert first.decision.measure("bostotte").status == "not_eligible"
    assert second.decision.measure("bostotte").status == "eligible"
    (change,) = [m for m in second.measure_changes if m.id == "bostotte"]
    assert (change.status_before, change.status) == ("not_eligible", "eligible")
    assert change.amount == second.decision.measure("bostotte").amount


def test_dated_facts_split_the_period(dated: Engine) -> None:
    facts = household(members=[{"age": 40, "disability": False, "income_month": [
        {"from": "2025-01-01", "value": 10000}, {"from": "2025-05-15", "value": 20000}]}])
    result = dated.evaluate_period(facts, date(2025, 1, 1), date(2025, 6, 30))
    seen = changes(result)
    assert ("fact", "members[0].income_month", "changes") in seen[date(2025, 5, 15)]
    before = next(p for p in result.periods if p.start == date(2025, 4, 1))
    after = next(p for p in result.periods if p.start == date(2025, 5, 15))
    assert before.decision.measure("bostotte").amount != after.decision.measure(
        "bostotte").amount
    point = dated.evaluate(facts, as_of=date(2025, 6, 1))
    assert point.measure("bostotte").amount == after.decision.measure("bostotte").amount


def test_before_the_first_dated_value_the_fact_is_missing(dated: Engine) -> None:
    facts = household(housing={"tenure": "leie", "cost_month": [
        {"from": "2025-03-01", "value": 6000}]})
    early = dated.evaluate(facts, as_of=date(2025, 2, 1))
    assert "housing.cost_month" in {m.path for m in early.missing_facts}
    late = dated.evaluate(facts, as_of=date(2025, 3, 1))
    assert "housing.cost_month" not in {m.path for m in late.missing_facts}


def test_monthly_measures_split_at_every_month(dated: Engine) -> None:
    plain = dated.evaluate_period(household(), date(2025, 7, 1), date(2025, 9, 30))
    assert len(plain.periods) == 1
    monthly = dated.evaluate_period(household(), date(2025, 7, 1), date(2025, 9, 30),
                                    monthly=True)
    assert [p.start for p in monthly.periods] == [date(2025, 7, 1), date(2025, 8, 1),
                                                  date(2025, 9, 1)]
    assert ("month", "bostotte", "changes") in changes(monthly)[date(2025, 8, 1)]


def test_the_bundled_pack_marks_bostotte_monthly() -> None:
    pack = load_pack(Path(__file__).resolve().parents[1] / "rules" / "no")
    assert pack.measure("bostotte").monthly
    assert not pack.measure("startlan").monthly


def test_pack_breakpoints_list_what_changes(dated: Engine) -> None:
    points = pack_breakpoints(dated.compiled, date(2020, 1, 1), date(2025, 12, 31))
    by_date = {b.date: {(c.kind, c.name) for c in b.changes} for b in points}
    assert ("parameter", "bostotte.tak") in by_date[date(2024, 1, 1)]
    assert ("parameter", "bostotte.egenandel") in by_date[date(2024, 1, 1)]
    assert ("requirement", "bostotte.registrert") in by_date[date(2025, 4, 1)]
    assert all(date(2020, 1, 1) < b.date <= date(2025, 12, 31) for b in points)


def test_json_contract(dated: Engine) -> None:
    result = dated.evaluate_period(household(), date(2025, 1, 1), date(2025, 12, 31))
    data = json.loads(result.to_json())
    assert set(data) == {"from", "to", "monthly", "pack_id", "pack_version", "content_hash",
                         "periods"}
    first = data["periods"][0]
    assert set(first) == {"from", "to", "decision", "changes", "measure_changes"}
    assert first["from"] == "2025-01-01" and first["decision"]["as_of"] == "2025-01-01"
    assert data["periods"][1]["changes"][0]["kind"] == "requirement"


@pytest.mark.parametrize(("start", "end"), [
    (date(2025, 5, 1), date(2025, 4, 1)),  # ends before it starts
    (date(2019, 1, 1), date(2025, 4, 1)),  # before the pack's period
    (date(2020, 1, 1), date(2035, 1, 1)),  # too long
])
def test_bad_ranges_are_clear_errors(dated: Engine, start: date, end: date) -> None:
    with pytest.raises(AsOfError):
        dated.evaluate_period(household(), start, end)


@pytest.mark.parametrize(("value", "path"), [
    ([{"from": "2025-05-01", "value": 1}, {"from": "2025-01-01", "value": 2}],
     "members[0].income_month[1].from"),
    ([{"from": "2025-05-01", "value": 1, "until": "2025-06-01"}],
     "members[0].income_month[0].until"),
    ([{"value": 1}], "members[0].income_month[0].from"),
    ([], "members[0].income_month"),
    ([{"from": "2025-01-01", "value": i} for i in range(500)], "members[0].income_month"),
])
def test_bad_dated_values_name_the_path(dated: Engine, value: Any, path: str) -> None:
    facts = household(members=[{"age": 40, "disability": False, "income_month": value}])
    with pytest.raises(FactsError) as info:
        dated.evaluate(facts, as_of=date(2025, 6, 1))
    assert [i.path for i in info.value.issues] == [path]


def _without_date(decision: Any) -> Any:
    return decision.model_dump(mode="json", exclude={"as_of": True, "provenance": True})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(income=st.integers(0, 40000), changed=st.integers(0, 40000),
       day=st.integers(0, 364), monthly=st.booleans(), registered=st.booleans())
def test_a_period_equals_a_point_evaluation_inside_it(
        dated: Engine, income: int, changed: int, day: int, monthly: bool,
        registered: bool) -> None:
    facts = household(
        household={"kommunegruppe": 4, "registered": registered},
        members=[{"age": 40, "disability": False, "income_month": [
            {"from": "2025-01-01", "value": income}, {"from": "2025-08-20", "value": changed}]}])
    result = dated.evaluate_period(facts, date(2025, 1, 1), date(2025, 12, 31), monthly)
    when = date(2025, 1, 1) + timedelta(days=day)
    period = next(p for p in result.periods if p.start <= when <= p.end)
    assert _without_date(period.decision) == _without_date(dated.evaluate(facts, as_of=when))
    assert result.periods[-1].end == date(2025, 12, 31)
    for a, b in zip(result.periods, result.periods[1:], strict=False):
        assert a.end + timedelta(days=1) == b.start


def test_the_bundled_pack_over_two_years() -> None:
    engine = Engine(load_pack(Path(__file__).resolve().parents[1] / "rules" / "no"))
    import yaml
    facts = yaml.safe_load((Path(__file__).resolve().parents[1] / "fixtures"
                            / "enslig-oslo-lavinntekt.yaml").read_text(encoding="utf-8"))
    result = engine.evaluate_period(facts, date(2025, 1, 1), date(2026, 12, 31))
    assert len(result.periods) >= 2
    for period in result.periods:
        point = engine.evaluate(facts, as_of=period.end)
        assert _without_date(point) == _without_date(period.decision)
    changed = [p for p in result.periods if any(m.id == "bostotte" for m in p.measure_changes)]
    assert changed and all(isinstance(m.amount, Decimal) for p in changed
                           for m in p.measure_changes if m.id == "bostotte")


