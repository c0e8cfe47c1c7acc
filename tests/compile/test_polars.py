"""The polars backend against the reference: differential property tests and refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, RulePack, load_pack
from eligibility.batch.frame import build_frame, raw_rows
from eligibility.batch.run import PolarsBackend, ReferenceBackend
from eligibility.compile.polars import PolarsPlan, Unsupported
from eligibility.compile.polars.compiler import Compiler, Scope
from eligibility.expr.parser import parse
from eligibility.testing.strategies import evaluation_dates, households

ROOT = Path(__file__).resolve().parents[2]
NO = load_pack(ROOT / "rules" / "no")
NO_ENGINE = Engine(NO)


def _both(engine: Engine, docs: list[Any], as_of: date) -> tuple[pl.DataFrame, pl.DataFrame,
                                                                 PolarsBackend]:
    frame = build_frame(engine.pack, engine.validator, raw_rows(enumerate(docs)))
    polars_backend = PolarsBackend(engine, as_of)
    fast, _ = polars_backend.evaluate(frame)
    ref, _ = ReferenceBackend(engine, as_of).evaluate(frame)
    return fast, ref, polars_backend


def _assert_same(fast: pl.DataFrame, ref: pl.DataFrame) -> None:
    assert fast.columns == ref.columns
    assert fast.height == ref.height
    for a, b in zip(fast.iter_rows(named=True), ref.iter_rows(named=True), strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}


SLOW = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SLOW
@given(docs=st.lists(households(NO), min_size=1, max_size=6), as_of=evaluation_dates(NO))
def test_rules_no_polars_equals_reference_with_missing_facts(docs: list[Any],
                                                            as_of: date) -> None:
    """Statuses, amounts to the øre, requirement outcomes and missing facts, at any date
    (rule boundaries drawn half the time)."""
    fast, ref, backend = _both(NO_ENGINE, docs, as_of)
    assert backend.fallback == {}
    _assert_same(fast, ref)


@SLOW
@given(docs=st.lists(households(NO, complete=True), min_size=1, max_size=6),
       as_of=evaluation_dates(NO))
def test_rules_no_polars_equals_reference_complete(docs: list[Any], as_of: date) -> None:
    fast, ref, _ = _both(NO_ENGINE, docs, as_of)
    _assert_same(fast, ref)


def test_mini_pack_polars_equals_reference(mini_pack: RulePack) -> None:
    engine = Engine(mini_pack)
    docs = st.lists(households(mini_pack), min_size=30, max_size=30)
    sample: list[Any] = []

    @settings(max_examples=5, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(docs)
    def collect(batch: list[Any]) -> None:
        sample.extend(batch)

    collect()
    for as_of in (date(2020, 1, 1), date(2024, 7, 1), date(2026, 6, 1)):
        if not mini_pack.covers(as_of):
            continue
        fast, ref, backend = _both(engine, sample, as_of)
        assert backend.fallback == {}
        _assert_same(fast, ref)


def test_amount_to_the_ore_on_a_known_household() -> None:
    """A fixed bostøtte household: the polars amount string equals the reference's."""
    case = next(c for c in NO.cases if "bostotte" in c.expect_measures
                and c.expect_measures["bostotte"].get("status") == "eligible")
    fast, ref, _ = _both(NO_ENGINE, [case.facts], case.as_of)
    assert fast["bostotte.status"][0] == "eligible"
    assert fast["bostotte.amount"][0] == ref["bostotte.amount"][0]
    assert fast["bostotte.amount"][0] is not None


def _scope(pack: RulePack, as_of: date) -> Scope:
    facts = {f.path: "int" for f in pack.schema.all_fields() if not f.in_list}
    members = {f.name: "int" for f in pack.schema.all_fields() if f.in_list}
    return Scope(facts, members, {}, {}, as_of, where="test")


def test_outer_name_inside_an_aggregate_is_refused_with_its_position(
        mini_pack: RulePack) -> None:
    text = "count(members, age >= household.kommunegruppe) > 0"
    with pytest.raises(Unsupported) as info:
        Compiler(_scope(mini_pack, date(2025, 1, 1))).compile(parse(text))
    assert "household.kommunegruppe" in str(info.value)
    assert info.value.offset == text.index("household.kommunegruppe")


def test_unsupported_measure_falls_back_to_the_reference(
        pack_copy: Callable[..., Path]) -> None:
    root = pack_copy({"measures/botilbud.yaml": [
        ("when: situation.homeless",
         "when: situation.homeless and count(members, age >= household.kommunegruppe) >= 0")]})
    pack = load_pack(root)
    engine = Engine(pack)
    as_of = date(2025, 6, 1)
    plan = PolarsPlan(pack, as_of, engine.parameters_at(as_of)[0])
    assert "midlertidig_botilbud" in plan.fallback
    assert "household.kommunegruppe" in plan.fallback["midlertidig_botilbud"]
    docs = [{"situation": {"homeless": True}, "household": {"kommunegruppe": 2},
             "members": [{"age": 30}]},
            {"situation": {"homeless": True}},
            {"situation": {"homeless": False}, "members": [{"age": 1}]}]
    fast, ref, backend = _both(engine, docs, as_of)
    assert backend.fallback == plan.fallback
    _assert_same(fast, ref)
    assert fast["midlertidig_botilbud.status"].to_list() == [
        "eligible", "undetermined", "not_eligible"]


def test_division_by_zero_rows_go_to_the_reference(pack_copy: Callable[..., Path]) -> None:
    root = pack_copy({"measures/botilbud.yaml": [
        ("when: situation.homeless",
         "when: situation.homeless and 100 / (household.kommunegruppe - 1) > 1")]})
    pack = load_pack(root)
    engine = Engine(pack)
    as_of = date(2025, 6, 1)
    docs = [{"situation": {"homeless": True}, "household": {"kommunegruppe": 2}},
            {"situation": {"homeless": True}, "household": {"kommunegruppe": 1}},
            {"situation": {"homeless": True}}]
    frame = build_frame(pack, engine.validator, raw_rows(enumerate(docs)))
    fast, stats = PolarsBackend(engine, as_of).evaluate(frame)
    ref, _ = ReferenceBackend(engine, as_of).evaluate(frame)
    _assert_same(fast, ref)
    assert stats.reference_rows == 1
    assert fast["error"].to_list()[0] is None
    assert "division by zero" in fast["error"].to_list()[1]
