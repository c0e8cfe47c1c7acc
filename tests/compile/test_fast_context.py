"""The reference context the fast path hands a measure it cannot finish
(:func:`eligibility.compile.fast.run._context`): seeded with what the fast closures
computed — each criterion's value and the aggregates of it that a calculation step
shows — under the keys where the reference's own closures keep them, with the values
they would keep, so the recorder reads them instead of computing them again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from eligibility import Engine, load_pack
from eligibility.compile.calculation import record
from eligibility.compile.fast.run import _context

ROOT = Path(__file__).resolve().parents[2]
ENGINE = Engine(load_pack(ROOT / "rules" / "no"))
AS_OF = date(2026, 6, 1)
FAMILY = yaml.safe_load((ROOT / "fixtures" / "familie-utkastelse.yaml").read_text(
    encoding="utf-8"))


class _Counted(dict[str, Any]):
    """A member whose field reads are counted (the reference's closures read by ``get``)."""

    reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        _Counted.reads += 1
        return super().get(key, default)


def _fast_env() -> tuple[Any, Any, dict[str, Any]]:
    """The date's plan, the family's facts and the environment after its criteria ran
    on the fast closures."""
    facts = ENGINE.validate(FAMILY, AS_OF)
    plan = ENGINE.fast._plan(AS_OF)
    env = plan.base.copy()
    env.update(facts.flat)
    env["@members"] = facts.members
    for _, key, fn, _ in plan.criteria_eval:
        env[key] = fn(env)
    return plan, facts, env


def _computed(plan: Any, env: dict[str, Any]) -> dict[str, tuple[Any, tuple[str, ...]]]:
    """Each criterion's value as the fast closures computed it (a new dict each time:
    :func:`_context` adds the aggregates to it)."""
    return {c: (env[k], ()) for c, k, _, _ in plan.criteria_eval}


def test_the_context_holds_each_criterions_aggregates_as_the_reference_keeps_them() -> None:
    plan, facts, env = _fast_env()
    assert plan.criteria_kept  # rules/no's bostotte weights and income are steps
    ctx = _context(plan, facts, env, _computed(plan, env))
    reference = ENGINE.context(facts, AS_OF)
    for _, _, _, fn in plan.criteria:
        fn(reference)  # the reference's closures keep the aggregates as they run
    seeded = 0
    for pairs in plan.criteria_kept.values():
        for _, ckey in pairs:
            assert ctx.crit[ckey] == reference.crit[ckey]
            seeded += 1
    assert seeded >= 3


def test_a_criterion_not_computed_seeds_nothing() -> None:
    plan, facts, env = _fast_env()
    ctx = _context(plan, facts, env, {})
    assert ctx.crit == {}


def test_recording_from_the_seeded_context_reads_fewer_member_fields() -> None:
    """bostotte recorded the reference way (as when its amount lacks a fact): with the
    criteria's aggregates seeded, the recorder computes none of them again, and the
    steps are the same."""
    plan, facts, env = _fast_env()
    cm = next(cm for cm in ENGINE.compiled.measures if cm.measure.id == "bostotte")
    assert cm.calculation is not None
    reads = []
    steps = []
    no_kept: dict[str, tuple[tuple[str, str], ...]] = {}
    for kept in (plan.criteria_kept, no_kept):
        ctx = _context(replace(plan, criteria_kept=kept), facts, env, _computed(plan, env))
        ctx.members = [_Counted(m) for m in ctx.members or ()]
        ctx.amount = (env.get("@amount"), ())
        _Counted.reads = 0
        steps.append(record(cm.calculation, ctx, ctx.amount[0]))
        reads.append(_Counted.reads)
    assert steps[0] == steps[1]
    assert reads[0] < reads[1]
