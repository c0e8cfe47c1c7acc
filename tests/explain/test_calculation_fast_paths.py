"""The calculation views' cheaper paths read exactly as the views did before them.

``_decimal_text`` now formats a decimal as it is and rounds only one with more than
four decimals; ``with_values`` joins by concatenation and takes whole numbers from a
:class:`StepViews` memo. The references below are the decimal text and
``with_values`` of the views before those paths, kept verbatim (their other
values go through today's :func:`format_number`, whose branches for them did not
change); generated decimals and whole numbers of both signs, zero, many digits, large
and small exponents and more than four decimals, every term kind, in nb, nn and en."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.compile.calculation import ELIDED, RecordedStep
from eligibility.compile.runtime import UNKNOWN
from eligibility.explain.calculation import StepViews, _decimal_text, format_number, with_values
from eligibility.pack.yamlio import LocStr
from tests.numbers import decimals, outcome

LANGS = ("nb", "nn", "en")
_PLACES = Decimal("0.0001")


def _before_decimal_text(value: Decimal, lang: str) -> str:
    """``_decimal_text`` before the cheaper path (verbatim)."""
    try:
        text = f"{value.quantize(_PLACES, rounding=ROUND_HALF_UP):,f}"
    except InvalidOperation:  # beyond the context's precision when given four decimals
        text = f"{value:,f}"  # as many decimals as the exponent says
        dot = text.find(".")
        if dot < 0:
            return text.replace(",", " ")
        if len(text) - dot > 5:  # more than four decimals: round to four (may raise)
            text = f"{value.quantize(_PLACES, rounding=ROUND_HALF_UP):,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = text.replace(",", " ")
    return text if lang == "en" else text.replace(".", ",")


def _before_with_values(step: RecordedStep, lang: str,
                        yes_no: tuple[str, str] | None = None,
                        texts: Mapping[int, tuple[Any, str]] | None = None) -> str:
    """``with_values`` before the cheaper paths (verbatim but for its ``seen``)."""
    text = step.text
    parts: list[str] = []
    at = 0
    for start, end, value in step.terms:
        parts.append(text[at:start])
        at = end
        cls = value.__class__
        if cls is int:
            parts.append(str(value) if -1000 < value < 1000
                         else f"{value:,}".replace(",", " "))
        elif cls is Decimal:
            hit = texts.get(id(value)) if texts is not None else None
            if hit is not None and hit[0] is value:
                parts.append(hit[1])
            else:
                parts.append(_before_decimal_text(value, lang))
        elif value is UNKNOWN or value is None:
            parts.append("?")
        elif cls is bool and yes_no is not None:
            parts.append(yes_no[value])
        elif value is ELIDED:
            parts.append("…")
        elif cls is str or cls is LocStr:
            parts.append(f'"{value}"')
        else:
            parts.append(format_number(value, lang))
    parts.append(text[at:])
    return "".join(parts)


ints = st.one_of(st.integers(-10_000, 10_000), st.integers(), st.sampled_from(
    [0, 999, 1000, -999, -1000, 10**30, -(10**30)]))
values = st.one_of(
    decimals, ints, st.booleans(), st.text(max_size=5), st.builds(LocStr, st.text(max_size=5)),
    st.dates(), st.sampled_from([UNKNOWN, None, ELIDED]))


def _step(*shown: Any) -> RecordedStep:
    text = "(" + " + ".join(["value"] * len(shown)) + ")"
    terms = tuple((1 + 8 * i, 6 + 8 * i, v) for i, v in enumerate(shown))
    return RecordedStep("x", "let", None, None, (), text, None, (), (), terms)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.one_of(decimals, ints))
def test_numbers_read_as_before(value: Any) -> None:
    for lang in LANGS:
        expected = outcome(lambda: _before_with_values(_step(value), lang))  # noqa: B023
        assert outcome(lambda: with_values(_step(value), lang)) == expected  # noqa: B023
        shown = outcome(
            lambda: StepViews().steps((_step(value),), lang)[0].with_values)  # noqa: B023
        assert shown == expected
        if isinstance(value, Decimal):
            assert outcome(lambda: _decimal_text(value, lang)) == outcome(  # noqa: B023
                lambda: _before_decimal_text(value, lang))  # noqa: B023
            if expected[0] == "ok":
                assert format_number(value, lang) == _before_decimal_text(value, lang)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(values, min_size=1, max_size=6), st.lists(values, max_size=3))
def test_with_values_over_any_terms_reads_as_before(shown: list[Any], more: list[Any]) -> None:
    """Every term kind, through the public function and a :class:`StepViews` (whose
    memo of whole numbers, the pack's decimals and yes/no texts serve a second step
    showing the same objects, and a third showing others)."""
    views = StepViews({id(v): (v, str(v)) for v in shown if v.__class__ is Decimal})
    for lang in LANGS:
        yes_no = (format_number(False, lang), format_number(True, lang))
        for step in (_step(*shown), _step(*shown, *more), _step(*more, *shown)):
            expected = outcome(lambda: _before_with_values(step, lang))  # noqa: B023
            assert outcome(lambda: with_values(step, lang)) == expected  # noqa: B023
            assert outcome(lambda: with_values(step, lang, yes_no)) == expected  # noqa: B023
            got = outcome(lambda: views.steps((step,), lang)[0].with_values)  # noqa: B023
            assert got == expected


def test_a_date_a_large_number_and_a_tiny_negative_read_as_before() -> None:
    step = _step(date(2026, 6, 1), 1234567, Decimal("-0.00004"), True)
    for lang in LANGS:
        assert StepViews().steps((step,), lang)[0].with_values == _before_with_values(
            step, lang)
    assert with_values(step, "en") == "(2026-06-01 + 1 234 567 + -0 + yes)"


def test_a_step_whose_memo_keeps_filling_up_is_made_without_one() -> None:
    """A step shown with ever new values (an income) stops being kept once its memo
    was missed ``_MISSES`` times with less than one hit per ``_HITS`` misses; its views
    read the same, and a step of few values is still shared."""
    from eligibility.compile.calculation import StepId

    class Small(StepViews):
        _STEPS = 4
        _MISSES = 8

    views = Small()
    ident, few = StepId("income"), StepId("count")
    income = [_step(1000 + n)._replace(planned=ident) for n in range(9)]
    count = _step(2)._replace(text="(value) ", planned=few)  # another step's text
    first = views.steps((income[0], count), "en")
    assert views.steps((income[0]._replace(), count._replace()), "en") == first
    assert views.steps((income[0]._replace(),), "en")[0] is first[0]  # kept: shared
    for step in income[1:]:  # nine misses, two hits
        views.steps((step,), "en")
    again = views.steps((income[5]._replace(), count._replace()), "en")
    assert again[0].with_values == "(1 005)" and again[0] is not views.steps(
        (income[5]._replace(),), "en")[0]  # made each time now
    assert again[1] is first[1]  # the other step's memo is its own: still shared


def test_equal_steps_of_many_objects_share_one_view_through_every_memo() -> None:
    """The views of equal steps — one object the recorder shares, seen again, and other
    objects of the same values (a decimal among them) — are one view, kept by identity
    once the shared object came again, and still one after the memos filled up and were
    emptied; a step of other values has its own."""
    from eligibility.compile.calculation import StepId

    class Small(StepViews):
        _LIMIT = 3  # the identity memo empties every third entry
        _KEYED_AFTER = 0  # decimals are keys at once

    views = Small()
    ident = StepId("rate")
    shared = _step(Decimal("0.13"), 2, True)._replace(value=Decimal("1.26"), planned=ident)
    count = _step(7)._replace(value=7, planned=StepId("count"))
    first, seven = views.steps((shared, count), "nb")
    assert first.with_values == "(0,13 + 2 + ja)" and first.value == Decimal("1.26")
    for n in range(12):
        others = [shared._replace() for _ in range(3)]  # equal, other objects
        got = views.steps((shared, *others, count._replace(), shared, count), "nb")
        assert [id(v) for v in got] == [id(first)] * 4 + [id(seven), id(first), id(seven)], n
    assert seven.with_values == "(7)" and seven.value == 7
    other = views.steps((shared._replace(value=Decimal("1.260")),), "nb")[0]
    assert other is not first and str(other.value) == "1.260"
    assert other.model_dump_json() != first.model_dump_json()


def _copy(value: Any, wider: bool) -> Any:
    """An equal value of the same kind, another object: a decimal from its digits (one
    more zero where ``wider``: 1.5 → 1.50, so another key), a whole number from its
    text."""
    if value.__class__ is Decimal:
        copy = Decimal(str(value))
        if wider and copy.is_finite():
            sign, digits, exponent = copy.as_tuple()
            assert isinstance(exponent, int)
            copy = Decimal((sign, (*digits, 0), exponent - 1))
        return copy
    if value.__class__ is int:
        return int(str(value))
    return value


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(values, min_size=1, max_size=5), st.booleans())
def test_a_step_found_by_its_values_reads_as_one_made_afresh(shown: list[Any],
                                                             wider: bool) -> None:
    """A step whose view the memo finds by values (equal values of the same kinds,
    other objects; a decimal by its digits) reads and serialises exactly as a view
    made afresh of that very step, its value and exact amount included."""

    class Keyed(StepViews):
        _KEYED_AFTER = 0  # decimals are keys at once

    views = Keyed()
    exact = shown[-1] if shown[-1].__class__ in (Decimal, int) else None  # an amount's
    value = UNKNOWN if shown[0] is ELIDED else shown[0]  # (a term's mark only)
    for lang in LANGS:
        first = _step(*shown)._replace(value=value, exact=exact)
        try:
            views.steps((first,), lang)
        except InvalidOperation:  # (a rounding beyond the context's precision)
            continue
        for again in (first._replace(), _step(*[_copy(v, wider) for v in shown])._replace(
                value=_copy(value, wider), exact=_copy(exact, wider))):
            got = views.steps((again,), lang)[0]
            fresh = StepViews().steps((again,), lang)[0]
            assert got.model_dump_json() == fresh.model_dump_json()
            assert got.__dict__ == fresh.__dict__
