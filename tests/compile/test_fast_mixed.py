"""The fast path's mixed evaluation against the reference: fixtures with facts removed.

The fixtures under ``fixtures/`` are real-looking households that already lack some of
``rules/no``'s facts; here each draw removes more of them at random (household fields
and member fields, per member), sometimes flips a yes/no fact or changes a whole number,
and evaluates at one of a few dates, observed or not. One engine serves every draw, so
the memo tables of the mixed path (per requirement, by the values of the facts it reads
and which are absent) fill across draws and are held to the reference too:
the outcomes — statuses, amounts, the missing facts and their order, the shown values,
the calculation steps — must be equal, and again equal when the same household comes a
second time (from the memos).
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, load_pack
from eligibility.compile.fast import run as fast_run
from eligibility.errors import EligibilityError

ROOT = Path(__file__).resolve().parents[2]
ENGINE = Engine(load_pack(ROOT / "rules" / "no"))
FIXTURES = [yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((ROOT / "fixtures").glob("*.yaml"))]
DATES = (date(2026, 6, 1), date(2024, 3, 1), date(2022, 11, 15))


def _places(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every (group, field) and ("members", index, field) the document gives."""
    places: list[tuple[Any, ...]] = []
    for group, fields in doc.items():
        if group == "members":
            places += [("members", i, f) for i, m in enumerate(fields) for f in m]
        elif isinstance(fields, dict):
            places += [(group, f) for f in fields]
    return places


@st.composite
def _households(draw: st.DrawFn) -> tuple[dict[str, Any], date, bool]:
    doc = copy.deepcopy(draw(st.sampled_from(FIXTURES)))
    places = _places(doc)
    for place in draw(st.lists(st.sampled_from(places), max_size=12, unique=True)):
        holder = doc["members"][place[1]] if place[0] == "members" else doc[place[0]]
        field = place[-1]
        value = holder.get(field)
        change = draw(st.sampled_from(("remove", "remove", "change")))
        if change == "remove":
            del holder[field]
        elif isinstance(value, bool):
            holder[field] = not value
        elif isinstance(value, int):
            holder[field] = draw(st.integers(min_value=0, max_value=max(2 * value, 10)))
    return doc, draw(st.sampled_from(DATES)), draw(st.booleans())


def _outcomes(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except EligibilityError as exc:
        return "error", (type(exc).__name__, str(exc))


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_households())
def test_mixed_path_equals_reference_on_fixtures_with_facts_removed(
        scenario: tuple[dict[str, Any], date, bool]) -> None:
    doc, as_of, observe = scenario
    kind, valid = _outcomes(lambda: ENGINE.validate(doc))
    if kind == "error":  # a change the schema refuses (e.g. a member without its role)
        return
    ref_kind, ref = _outcomes(lambda: ENGINE.reference_outcomes(valid, as_of, observe))
    fast_kind, fast = _outcomes(lambda: ENGINE.fast.evaluate_household(valid, as_of, observe))
    assert (fast_kind, fast_kind == "error" and fast) == (ref_kind, ref_kind == "error" and ref)
    if ref_kind == "error":
        return
    assert fast == ref
    for _ in range(2):  # on the fast closures alone, and from the memos the second time
        assert ENGINE.fast.evaluate_household(valid, as_of, observe, fallback=False) == ref


def _generated(n: int, seed: int, missing: float) -> list[dict[str, Any]]:
    import polars as pl

    from eligibility.batch.frame import drop_nulls
    from eligibility.batch.generate import generate

    frame = generate(ENGINE.pack, n, seed=seed, missing=missing)
    groups = [c for c in frame.columns if c != "id"]
    return [drop_nulls(row[0]) for row in frame.select(pl.struct(groups)).iter_rows()]


@pytest.mark.parametrize("missing", [0.0, 0.2, 0.5])
def test_generated_population_equals_reference(missing: float,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's population (each optional fact absent with p=``missing``, up to
    six members, a member field missing on some members): equal outcomes, observed or
    not, with the memos filling across households; with facts missing, measures whose
    amount cannot finish on the fast closures go to the reference whole."""
    whole: list[str] = []
    real = fast_run.evaluate_measure

    def counting(cm: Any, *args: Any) -> Any:
        whole.append(cm.measure.id)
        return real(cm, *args)

    monkeypatch.setattr(fast_run, "evaluate_measure", counting)
    engine = Engine(ENGINE.pack)  # memos of its own
    for i, doc in enumerate(_generated(100, 5, missing)):
        valid = engine.validate(doc)
        as_of = DATES[i % len(DATES)]
        observe = i % 3 != 0
        ref = engine.reference_outcomes(valid, as_of, observe)
        assert engine.fast.evaluate_household(valid, as_of, observe, fallback=False) == ref
    assert (len(whole) > 0) == (missing > 0)


def test_measures_on_the_reference_whole_take_complete_requirements_from_the_fast_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A measure whose amount cannot finish on the fast closures goes to the reference
    whole, but its requirements with every fact they read (and no let or amount) come
    from the fast closures and the run memo (``known``): the same outcomes as the
    reference, observed or not, with the calculation or without, and the same again
    from the memos."""
    given: list[list[Any]] = []
    real = fast_run._known

    def keeping(*args: Any) -> Any:
        known = real(*args)
        given.append(list(known or ()))
        return known

    monkeypatch.setattr(fast_run, "_known", keeping)
    engine = Engine(ENGINE.pack)  # memos of its own
    documents = _generated(60, 6, 0.2)
    for _ in range(2):
        for i, doc in enumerate(documents):
            valid = engine.validate(doc)
            as_of = DATES[i % len(DATES)]
            observe, calculation = (i % 2 == 0), (i % 3 != 0)
            ref = engine.reference_outcomes(valid, as_of, observe, calculation)
            assert engine.fast.evaluate_household(valid, as_of, observe, calculation,
                                                  fallback=False) == ref
    counts = [sum(k is not None for k in known) for known in given]
    assert sum(counts) > 0 and 0 in counts
    # the second time, the same outcomes; those decided by their shown values of exact
    # kinds the very objects of the first time (from the run memo)
    first, second = given[:len(given) // 2], given[len(given) // 2:]
    assert first == second
    assert any(a is b for one, two in zip(first, second, strict=True)
               for a, b in zip(one, two, strict=True) if a is not None)
