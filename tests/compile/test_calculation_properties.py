"""Generated households of the bundled pack: recording the calculation never crashes,
never changes the outcome, and its steps are consistent with the Decision.

What it proves (100 households, partial and complete facts, dates across the pack's
period): the amount step equals the Decision's amount (when one is shown), a step that waits for
facts is unknown, the same facts give the same calculation byte for byte, and the
Decision without the calculation is otherwise identical. What it does not: that the
values are right (tests/rules_no/test_calculation.py checks them against hand figures).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, load_pack
from eligibility.testing.strategies import households

ROOT = Path(__file__).parents[2]
PACK = load_pack(ROOT / "rules" / "no")
ENGINE = Engine(PACK)
SETTINGS = settings(max_examples=100, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
DATES = st.sampled_from([date(2020, 3, 1), date(2022, 3, 1), date(2024, 7, 1),
                         date(2026, 7, 1)])


@SETTINGS
@given(st.one_of(households(PACK), households(PACK, complete=True)), DATES)
def test_recording_is_consistent_with_the_decision(facts: dict[str, Any], when: date) -> None:
    full = ENGINE.evaluate(facts, as_of=when, lang="en")
    bare = ENGINE.evaluate(facts, as_of=when, lang="en", calculation=False)
    assert ENGINE.evaluate(facts, as_of=when, lang="en").to_json() == full.to_json()
    for m, b in zip(full.measures, bare.measures, strict=True):
        assert m.model_copy(update={"calculation": None}) == b
        if m.calculation is None:
            continue
        last = m.calculation[-1]
        assert last.name == "amount"
        if m.amount is not None:
            assert last.known and last.value == m.amount
        for step in m.calculation:
            assert step.known == (step.value is not None)
            if step.waiting_for:
                assert not step.known
            assert "\n" not in step.with_values


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.one_of(households(PACK), households(PACK, complete=True)), DATES)
def test_reading_the_evaluation_equals_evaluating_again(facts: dict[str, Any],
                                                         when: date) -> None:
    """The recorder reads the evaluation's caches and unrounded amount; recorded in a
    fresh context (nothing cached, the amount evaluated again) every step is the same."""
    from eligibility.compile.calculation import record
    from eligibility.compile.reference import evaluate_measure
    from eligibility.compile.runtime import Ctx

    valid = ENGINE.validate(facts)
    params, _ = ENGINE.parameters_at(when)
    ctx = Ctx(valid.flat, valid.members, when, params)
    in_force = ENGINE.compiled.in_force_at(when)
    for _, cm, reqs in in_force.measures:
        if cm.calculation is None:
            continue
        out = evaluate_measure(cm, ctx, reqs, observe=False, calculation=True)
        fresh = Ctx(valid.flat, valid.members, when, params)
        fresh.amount = ctx.amount
        assert out.calculation == record(cm.calculation, fresh, out.amount)
        assert not fresh.missing
