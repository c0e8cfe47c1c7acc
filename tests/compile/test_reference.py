"""The reference's judge(): one requirement's outcome, its waiving exception and the
missing facts that matter, against what its closures read on their own."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.compile.closures import Resolver, compile_expr
from eligibility.compile.pack import CompiledRequirement
from eligibility.compile.reference import judge
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.expr.parser import parse
from eligibility.pack.model import Requirement, RuleException, Text

RES = Resolver(frozenset({"f.a", "f.b", "f.c"}), frozenset(), {})
EXPRS = ["f.a", "f.a and f.b", "f.a or f.b", "f.a and f.a", "not f.b", "f.a == f.b"]
TITLE = Text(nb="t", en="t")
PRIOR = ["x.read_before"]


def _alone(text: str, facts: dict[str, Any]) -> tuple[Any, list[str]]:
    ctx = Ctx(facts, None, date(2025, 1, 1), {})
    return compile_expr(parse(text), RES)(ctx), ctx.missing


@settings(max_examples=300, deadline=None)
@given(expr=st.sampled_from([*EXPRS, None]),
       unless=st.sampled_from([None, "f.c", "f.a"]),
       discretionary=st.booleans(),
       facts=st.fixed_dictionaries({}, optional={k: st.booleans() for k in ("f.a", "f.b", "f.c")}))
def test_judge_matches_its_closures(expr: str | None, unless: str | None, discretionary: bool,
                                    facts: dict[str, Any]) -> None:
    exc = RuleException("e", TITLE, None, ())  # type: ignore[arg-type]  # (judge reads no expr)
    creq = CompiledRequirement(
        Requirement("r", TITLE, None, (exc,) if unless else (), (), discretionary),
        compile_expr(parse(expr), RES) if expr is not None else None,
        ((exc, compile_expr(parse(unless), RES)),) if unless else (), (), (), {})
    ctx = Ctx(facts, None, date(2025, 1, 1), {})
    ctx.missing = list(PRIOR)
    outcome, waived_by, seen, value = judge(creq, ctx)

    want, read = _alone(expr, facts) if expr is not None else (UNKNOWN, [])
    assert value is want
    if want is not True and unless:
        exc_value, exc_read = _alone(unless, facts)
        read = read + exc_read
        if exc_value is True:
            assert (outcome, waived_by, seen, ctx.missing) == ("waived", exc, (), PRIOR)
            return
    assert waived_by is None
    if discretionary:
        expected = "discretionary"
    elif want is True:
        expected = "met"
    elif want is False and not read:
        expected = "not_met"
    else:
        expected = "unknown"
    assert outcome == expected
    if expected in ("met", "not_met"):
        assert (seen, ctx.missing) == ((), PRIOR)
    else:  # the facts read, in order, each once; left in ctx.missing as read
        assert seen == tuple(dict.fromkeys(read))
        assert ctx.missing == PRIOR + read


def test_known_outcomes_stand_in_for_judging() -> None:
    """evaluate_measure with ``known`` (outcomes the caller has, e.g. from the fast
    closures) gives what it gives judging them itself: the known ones in their places,
    the status, missing facts and assessments from all of them."""
    from pathlib import Path

    import yaml

    from eligibility import Engine, load_pack
    from eligibility.compile.reference import evaluate_measure

    root = Path(__file__).resolve().parents[2]
    engine = Engine(load_pack(root / "rules" / "no"))
    as_of = date(2026, 6, 1)
    compared = 0
    for path in sorted((root / "fixtures").glob("*.yaml")):
        facts = engine.validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for cm in engine.compiled.measures:
            reqs = engine.compiled.in_force_at(as_of).requirements[cm.index]
            for observe in (True, False):
                whole = evaluate_measure(cm, engine.context(facts, as_of), reqs, observe)
                for keep in (0, 1):  # every other requirement known, the others judged
                    known = [r if i % 2 == keep else None
                             for i, r in enumerate(whole.reasons)]
                    got = evaluate_measure(cm, engine.context(facts, as_of), reqs, observe,
                                           known=known)
                    assert got == whole
                    assert all(g is k for g, k in zip(got.reasons, known, strict=True)
                               if k is not None)
                    compared += 1
    assert compared > 50
