"""Numbers for reading stay byte-identical on the cheaper paths: ``with_values`` formats
a whole decimal itself and takes the pack's decimals from a text memo; both must give
what the original ``format_number`` algorithm gives, on generated decimals of both
signs, zero, many digits, positive and negative exponents, and more than four decimals
(rounded half up to four, as the views show them)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.compile.calculation import RecordedStep
from eligibility.explain.calculation import StepViews, format_number, with_values
from tests.numbers import decimals, outcome

LANGS = ("nb", "nn", "en")


def _original(value: Decimal, lang: str) -> str:
    """The decimal branch of ``format_number`` as it was written before the cheaper
    paths (kept here verbatim as the reference)."""
    text = f"{value:,f}"
    dot = text.find(".")
    if dot >= 0:
        if len(text) - dot > 5:
            text = f"{value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):,f}"
        text = text.rstrip("0").rstrip(".")
    text = text.replace(",", " ")
    if lang != "en":
        text = text.replace(".", ",")
    return text


def _step(*values: Any) -> RecordedStep:
    text = " + ".join(["v"] * len(values))
    terms = tuple((4 * i, 4 * i + 1, v) for i, v in enumerate(values))
    return RecordedStep("x", "let", None, None, (), text, None, (), (), terms)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(decimals)
def test_whole_and_fractional_decimals_read_as_the_original_algorithm(value: Decimal) -> None:
    for lang in LANGS:
        expected = outcome(lambda: _original(value, lang))  # noqa: B023
        assert outcome(lambda: format_number(value, lang)) == expected  # noqa: B023
        assert outcome(lambda: with_values(_step(value), lang)) == expected  # noqa: B023
        texts = {id(value): (value, _original(value, lang))} if expected[0] == "ok" else {}
        assert outcome(lambda: with_values(_step(value), lang, None, texts)) == expected  # noqa: B023


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(decimals, min_size=1, max_size=6))
def test_a_views_memo_of_pack_decimals_gives_the_same_text(values: list[Decimal]) -> None:
    """The pack's decimals are formatted once per language; a household's equal decimal
    (another object) is formatted itself, with its own digits."""
    pack = {id(v): (v, str(v)) for v in values[::2]}
    views = StepViews(pack)
    for lang in LANGS:
        try:
            expected = " + ".join(_original(v, lang) for v in values)
        except InvalidOperation:
            continue
        shown = views.steps((_step(*values),), lang)[0].with_values
        assert shown == expected
        again = [Decimal(str(v)) for v in values]  # equal values, other objects
        assert views.steps((_step(*again),), lang)[0].with_values == expected


def _one_more_zero(value: Decimal) -> Decimal:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    return Decimal((sign, (*digits, 0), exponent - 1))


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(decimals, min_size=1, max_size=4))
def test_a_households_decimals_are_formatted_once_and_read_the_same(
        values: list[Decimal]) -> None:
    """``with_values`` keeps the text of each of the household's decimals it formats in
    the caller's ``seen`` (by the very object), and reuses it for that object only: the
    steps of one household, a decimal shown twice, an equal decimal written otherwise."""
    others = [_one_more_zero(v) for v in values]  # equal, written otherwise: 1.5 → 1.50
    shown = [*values, *values, *others]
    for lang in LANGS:
        try:
            expected = " + ".join(_original(v, lang) for v in shown)
        except InvalidOperation:
            continue
        seen: dict[int, tuple[Any, str]] = {}
        assert with_values(_step(*shown), lang, None, None, seen) == expected
        assert all(hit[0] is v and hit[1] == _original(v, lang)
                   for v in shown for hit in [seen[id(v)]])
        assert with_values(_step(*values), lang, None, None, seen) == " + ".join(
            _original(v, lang) for v in values)
        assert StepViews().steps((_step(*shown),), lang)[0].with_values == expected
