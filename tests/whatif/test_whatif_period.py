"""What-if over a period (:func:`eligibility.whatif.what_if_period`) and the facts to
confirm on both sides of a what-if."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from eligibility import Engine
from eligibility.errors import PeriodError
from eligibility.whatif import what_if, what_if_period
from tests.conftest import household

START, END = date(2023, 6, 1), date(2024, 12, 31)
DATED = [{"from": "2023-06-01", "value": 10000}, {"from": "2023-09-01", "value": 20000}]


def _key(result: Any) -> Any:
    return [(m.id, m.status_before, m.status_after, m.amount_before, m.amount_after)
            for m in result.measures]


def test_splits_where_either_side_splits(engine: Engine) -> None:
    # the variant's income changes on 2023-09-01; the pack's parameters on 2024-01-01
    changes = {"members[0].income_month": DATED}
    result = what_if_period(engine, household(), changes, START, END, name="raise")
    assert [(p.start, p.end) for p in result.periods] == [
        (START, date(2023, 8, 31)), (date(2023, 9, 1), date(2023, 12, 31)),
        (date(2024, 1, 1), END)]
    middle = result.periods[1]
    # the baseline does not split there: it is decided again on the sub-period's first day
    assert middle.baseline.as_of == middle.variant.as_of == date(2023, 9, 1)
    assert [(c.kind, c.name) for c in middle.changes] == [("fact", "members[0].income_month")]
    assert {c.name for c in result.periods[2].changes} >= {"bostotte.tak"}
    assert result.name == "raise" and result.changes[0].after == DATED
    assert not result.periods[0].changed()  # same income until September
    assert [m.id for m in middle.changed()] == ["bostotte"]


@pytest.mark.parametrize("changes", [{"members[0].income_month": DATED},
                                     {"housing.cost_month": 9000},
                                     {"members[+]": {"age": 4, "income_month": 0}}])
def test_each_sub_period_is_the_point_what_if_on_any_day_inside(
        engine: Engine, changes: dict[str, Any]) -> None:
    result = what_if_period(engine, household(), changes, START, END)
    for period in result.periods:
        for when in (period.start, period.start + (period.end - period.start) / 2,
                     period.end):
            point = what_if(engine, household(), changes, when)
            assert _key(point) == _key(period), when
    days = sum((p.end - p.start).days + 1 for p in result.periods)
    assert days == (END - START).days + 1  # no gaps, no overlaps
    for a, b in zip(result.periods, result.periods[1:], strict=False):
        assert a.end + timedelta(days=1) == b.start


def test_period_errors(engine: Engine) -> None:
    with pytest.raises(PeriodError) as info:
        what_if_period(engine, household(), {"housing.cost_month": 1}, END, START)
    assert info.value.field == "to"


def test_both_sides_list_their_own_facts_to_confirm(engine: Engine) -> None:
    facts = household(housing={"tenure": "leie", "cost_month": {"value": 6000}},
                      members=[{"age": 40, "disability": False,
                                "income_month": {"value": 10000}}])
    result = what_if(engine, facts, {"members[0].income_month": 30000}, START)
    base = {c.path: c.affects for c in result.baseline.confirm_before_deciding or []}
    variant = {c.path: c.affects for c in result.variant.confirm_before_deciding or []}
    assert base == {"housing.cost_month": ["bostotte"], "members[0].income_month": ["bostotte"]}
    # the variant's income is its own hypothesis; bostøtte then fails on the minimum
    # payout (`utbetaling` reads the amount, so the housing cost still decides it)
    assert result.variant.measure("bostotte").status == "not_eligible"
    assert variant == {"housing.cost_month": ["bostotte"]}
    assert result.changes[0].before == 10000  # the value, not the wrapper
    plain = what_if(engine, household(), {"members[0].income_month": 30000}, START)
    assert plain.baseline.confirm_before_deciding is None
    assert "confirm_before_deciding" not in plain.model_dump_json()


def test_a_scenario_over_a_period_is_each_variant_over_it(engine: Engine) -> None:
    from eligibility.whatif import Scenario, compare_scenario_period

    variants = {"more": {"members[0].income_month": 14000},
                "cheaper": {"housing.cost_month": 4000}}
    result = compare_scenario_period(engine, Scenario(baseline=household(), variants=variants),
                                     START, END)
    assert [v.name for v in result.variants] == ["more", "cheaper"]
    for variant, (name, changes) in zip(result.variants, variants.items(), strict=True):
        alone = what_if_period(engine, household(), changes, START, END, name=name)
        assert variant == alone
