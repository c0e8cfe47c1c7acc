"""The read-only views of a calculation: numbers for reading, the terminal table, the
Markdown table, the steps that changed between two decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rich.console import Console

from eligibility import Engine
from eligibility.compile.runtime import UNKNOWN
from eligibility.decision import Decision
from eligibility.explain.calculation import (
    calculation_markdown,
    calculation_renderables,
    calculation_table,
    changed_steps,
    changes_table,
    format_number,
)
from eligibility.pack.yamlio import LocStr

FACTS: dict[str, Any] = {
    "household": {"kommunegruppe": 4, "registered": True},
    "members": [{"age": 40, "income_month": 10000}],
    "housing": {"tenure": "leie", "cost_month": 6000},
    "situation": {"homeless": False},
}


def _text(renderable: object, width: int = 160) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def _decision(engine: Engine, **changes: Any) -> Decision:
    return engine.evaluate({**FACTS, **changes}, as_of=date(2023, 6, 1), lang="en")


def test_format_number() -> None:
    assert format_number(1234567, "en") == "1 234 567"
    assert format_number(-1234, "en", "NOK") == "-1 234 NOK"
    assert format_number(Decimal("39487.6472"), "en", "NOK/year") == "39 487.6472 NOK/year"
    assert format_number(Decimal("39487.6472"), "nb") == "39 487,6472"
    assert format_number(Decimal(11792) / 12, "en") == "982.6667"  # at most four decimals
    assert format_number(Decimal("0.2"), "en", "ratio") == "0.2"  # ratios carry no unit
    assert format_number(Decimal("216000.00"), "en") == "216 000"
    assert format_number(True, "en") == "yes" and format_number(False, "nb") == "nei"
    assert format_number(UNKNOWN, "en", "NOK") == "?"
    assert format_number("leie", "en") == '"leie"'
    assert format_number(LocStr("leie"), "nb") == '"leie"'  # a string read from YAML


def test_terminal_table_shows_every_step_with_values_and_sources(engine: Engine) -> None:
    decision = _decision(engine)
    table = calculation_table(decision.measure("bostotte"), "en")
    assert table is not None
    text = _text(table)
    assert "Calculation: Housing allowance" in text
    assert "20 000 + 0.2 * 120 000" in text and "44 000 NOK/year" in text
    assert "bostotte.tak[1] = 60 000 NOK/year (from 2016-01-01; Forskrift om bostøtte § 3)" \
        in text
    assert "983 NOK/month" in text and "rounded from 982.6667" in text
    assert "Forskrift om bostøtte § 7" in text  # the criterion step's source
    # one table per measure with an amount, none for the others
    assert len(calculation_renderables(decision)) == 1
    assert calculation_table(decision.measure("midlertidig_botilbud"), "en") is None


def test_terminal_table_says_what_an_unknown_step_waits_for(engine: Engine) -> None:
    decision = _decision(engine, members=[{"age": 40}])
    text = _text(calculation_table(decision.measure("bostotte"), "en"))
    assert "waits for members[0].income_month" in text


def test_markdown_table(engine: Engine) -> None:
    md = calculation_markdown(_decision(engine).measure("bostotte"), "en").splitlines()
    assert md[0] == "| Step | Calculation | Value |" and md[1] == "|---|---|---:|"
    assert md[2] == "| inntekt_aar | `yearly(10 000)` | 120 000 NOK/year |"
    assert md[-1] == ("| amount (Bustøttelova) | `monthly(0.737 * max(0, min(yearly(6 000), "
                      "60 000) - 44 000))` | 982.6667 → **983 NOK/month** |")
    assert calculation_markdown(_decision(engine).measure("midlertidig_botilbud"), "en") == ""


def test_changed_steps_lists_only_what_changed(engine: Engine) -> None:
    before = _decision(engine).measure("bostotte")
    after = _decision(engine, members=[{"age": 40, "income_month": 11000}]).measure("bostotte")
    changed = changed_steps(before, after)
    assert [(a.name if a else None) for a, _ in changed] == ["inntekt_aar", "egenandel",
                                                              "amount"]
    assert [(a.value, b.value) for a, b in changed if a and b] == [
        (120000, 132000), (44000, 46400), (983, 835)]  # 0.737 × 13 600 / 12
    assert changed_steps(before, before) == [] and changes_table(before, before, "en") is None
    text = _text(changes_table(before, after, "en"))
    assert "Calculation steps that changed: Housing allowance" in text
    assert "983 NOK/month" in text and "835 NOK/month" in text


def _step(value: Any, *terms: Any) -> Any:
    from eligibility.compile.calculation import RecordedStep

    text = " + ".join(["rate"] * len(terms)) or "rate"
    spans, at = [], 0
    for term in terms:
        spans.append((at, at + 4, term))
        at += 7
    return RecordedStep("x", "let", None, None, (), text, value, (), (), tuple(spans))


def test_a_step_of_decimals_is_shared_by_their_digits() -> None:
    from types import SimpleNamespace

    from eligibility.explain.calculation import StepViews, pack_decimals

    short, long_ = Decimal("0.3"), Decimal("0.30")  # equal, written differently
    params = {"a": SimpleNamespace(versions=(SimpleNamespace(value=short),
                                             SimpleNamespace(value={"k": [long_]})))}
    class Keyed(StepViews):
        _KEYED_AFTER = 0  # decimals are keys at once

    views = Keyed(pack_decimals(params))
    first = views.steps((_step(short, short),), "en")[0]
    assert views.steps((_step(short, short),), "en")[0] is first  # the pack's own: shared
    other = views.steps((_step(long_, long_),), "en")[0]
    assert other is not first
    assert (first.value, first.with_values) == (short, "0.3")
    assert str(other.value) == "0.30" and other.model_dump_json() != first.model_dump_json()
    own = Decimal("0.3")  # this household's, written as the pack's: the same view
    assert views.steps((_step(own, own),), "en")[0] is first
    wider = Decimal("0.300")  # equal again, written otherwise: a view of its own digits
    made = views.steps((_step(wider, wider),), "en")[0]
    assert made is not first and made is not other and str(made.value) == "0.300"
    assert views.steps((_step(Decimal("0.300"), Decimal("0.300")),), "en")[0] is made


def test_a_decimal_shares_a_view_with_no_other_kind_of_value() -> None:
    """A decimal's memo key is its digits, tagged: a text or a whole number of the same
    digits keeps a view of its own, and -0 is not 0."""
    from eligibility.explain.calculation import StepViews

    class Keyed(StepViews):
        _KEYED_AFTER = 0  # decimals are keys at once

    views = Keyed()
    values = [Decimal("1"), "1", 1, Decimal("-0"), Decimal("0"), 0, Decimal("0.0")]
    made = [views.steps((_step(v, v),), "en")[0] for v in values]
    assert len({id(m) for m in made}) == len(values)
    again = [views.steps((_step(v, v),), "en")[0] for v in
             [Decimal("1"), "1", 1, Decimal("-0"), Decimal("0"), 0, Decimal("0.0")]]
    assert all(a is m for a, m in zip(again, made, strict=True))
    assert [m.with_values for m in made] == ["1", '"1"', "1", "-0", "0", "0", "0"]
    assert [m.model_dump_json() for m in again] == [m.model_dump_json() for m in made]


def test_a_new_views_makes_a_step_of_decimals_afresh_before_keying_it() -> None:
    """A step showing decimals is made afresh its first ``_KEYED_AFTER`` times (a new
    engine's households are seldom seen again), then found by its digits."""
    from eligibility.explain.calculation import StepViews

    views = StepViews()
    made = [views.steps((_step(Decimal("1.5"), Decimal("0.13")),), "en")[0]
            for _ in range(StepViews._KEYED_AFTER + 2)]
    assert len({id(m) for m in made[:StepViews._KEYED_AFTER + 1]}) == len(made) - 1
    assert made[-1] is made[-2] and made[-1].model_dump_json() == made[0].model_dump_json()


def test_with_values_formats_every_value_as_format_number_does() -> None:
    from eligibility.compile.calculation import ELIDED
    from eligibility.explain.calculation import with_values

    values = [0, 7, 999, 1000, -999, -1000, 1234567, True, False, Decimal("0.30"),
              Decimal("1234.5"), "leie", LocStr("eie"), UNKNOWN, ELIDED]
    step = _step(None, *values)
    for lang in ("nb", "nn", "en"):
        expected = " + ".join("…" if v is ELIDED else format_number(v, lang) for v in values)
        assert with_values(step, lang) == expected
        yes_no = (format_number(False, lang), format_number(True, lang))
        assert with_values(step, lang, yes_no) == expected
    assert with_values(step, "en").startswith(
        "0 + 7 + 999 + 1 000 + -999 + -1 000 + 1 234 567 + yes")


def test_a_step_equal_to_one_made_before_shares_its_view() -> None:
    """A recorded step equal in values to one made before (another object, or the same
    object again, as a recorder shares it) gets the view made then; one that differs in
    a value gets its own."""
    from eligibility.explain.calculation import StepViews

    views = StepViews()
    first = views.steps((_step(3, 1500, True, UNKNOWN),), "en")[0]
    again = _step(3, 1500, True, UNKNOWN)
    assert views.steps((again,), "en")[0] is first
    assert views.steps((again, again), "en") == [first, first]
    assert views.steps((again,), "en")[0] is first
    other = views.steps((_step(3, 1500, False, UNKNOWN),), "en")[0]
    assert other is not first
    assert (first.with_values, other.with_values) == ("1 500 + yes + ?", "1 500 + no + ?")
    assert views.steps((_step(3, 1500, True, UNKNOWN),), "nb")[0].with_values == \
        "1 500 + ja + ?"


def test_steps_of_two_planned_steps_alike_in_text_keep_their_own_titles() -> None:
    """The views keep a step's static part per planned step (its identity): two steps
    named and written alike but planned apart, with other titles, read as their own;
    a step made by hand (no planned step) is found by its fields."""
    from eligibility.compile.calculation import StepId
    from eligibility.explain.calculation import StepViews

    views = StepViews()
    base = _step(1, 2)
    a = base._replace(title={"en": "A"}, planned=StepId("x"))
    b = base._replace(title={"en": "B"}, planned=StepId("x"))
    for _ in range(2):
        assert [s.title for s in views.steps((a, b, base), "en")] == ["A", "B", None]
    assert views.steps((a,), "en")[0] is views.steps((a._replace(),), "en")[0]
