"""The terminal views at 80 and 120 columns: amounts whole, rows short, text never markup."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from eligibility import Decision, Engine
from eligibility.explain.terminal import (
    NBSP,
    Labels,
    format_amount,
    labels_for,
    print_decision,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures").glob("*.yaml"))
AS_OF = date(2026, 7, 1)


def _decide(engine: Engine, fixture: Path, lang: str = "nb") -> Decision:
    facts = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    return engine.evaluate(facts, as_of=AS_OF, lang=lang)


def _render(decision: Decision, width: int, details: bool, labels: Labels) -> list[str]:
    console = Console(width=width, record=True, file=open("/dev/null", "w"),  # noqa: SIM115
                      color_system=None, emoji=False, markup=False)
    print_decision(decision, console, details=details, labels=labels)
    console.file.close()
    return console.export_text().splitlines()


def test_format_amount_groups_thousands_with_no_break_spaces() -> None:
    from decimal import Decimal

    assert format_amount(Decimal("1204261"), "NOK", "nb") == "1 204 261 NOK"
    assert format_amount(Decimal("1204261"), "NOK", "nb", nbsp=True) == \
        f"1{NBSP}204{NBSP}261{NBSP}NOK"
    assert format_amount(Decimal("-983.5"), None, "en") == "-983.5"


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("details", [False, True], ids=["compact", "details"])
@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_every_amount_is_printed_whole_on_one_line(no_engine: Engine, fixture: Path,
                                                   width: int, details: bool) -> None:
    decision = _decide(no_engine, fixture)
    lines = _render(decision, width, details, labels_for(no_engine, "nb"))
    assert all(len(line) <= width for line in lines)
    text = "\n".join(lines)
    amounts = [format_amount(m.amount, m.unit, "nb", nbsp=True)
               for m in decision.measures if m.amount is not None]
    for amount in amounts:
        assert amount in text, f"{amount!r} is cut or split at {width} columns"


@pytest.mark.parametrize("width", [80, 120])
def test_compact_view_is_one_row_block_per_measure_and_fits_a_screen(
        no_engine: Engine, width: int) -> None:
    decision = _decide(no_engine, ROOT / "fixtures" / "familie-utkastelse.yaml")
    labels = labels_for(no_engine, "nb")
    compact = _render(decision, width, False, labels)
    details = _render(decision, width, True, labels)
    assert len(compact) <= 60 if width == 80 else len(compact) <= 45
    assert len(details) > 2 * len(compact)
    # every measure's status mark starts a row, in the decision's order
    marks = [line[0] for line in compact if line[:1] in "✓✗?" and line[1:3] == "  "]
    assert len(marks) == len(decision.measures)
    assert compact[0].startswith("✓ ")  # the count line first
    assert compact[-1].startswith("Regelsett: no ")


def test_unconfirmed_items_are_named_by_title_not_id(no_engine: Engine) -> None:
    decision = _decide(no_engine, ROOT / "fixtures" / "enslig-oslo-lavinntekt.yaml")
    text = "\n".join(_render(decision, 120, True, labels_for(no_engine, "nb")))
    bostotte = decision.measure("bostotte")
    assert bostotte.unconfirmed
    assert "param:" not in text and "criterion:" not in text
    param = next(u for u in bostotte.unconfirmed if u.startswith("param:"))
    title = no_engine.pack.parameters[param.removeprefix("param:")].title
    assert title is not None
    assert title.nb.split()[0] in text


def test_questions_name_the_measures_they_settle(no_engine: Engine) -> None:
    facts = {"members": [{"age": 34, "role": "applicant", "income_month": 18000}],
             "housing": {"tenure": "leie_privat", "cost_month": 13000}}
    decision = no_engine.evaluate(facts, as_of=AS_OF, lang="en")
    text = " ".join(_render(decision, 200, False, labels_for(no_engine, "en")))
    assert "Questions to ask" in text
    first = decision.missing_facts[0]
    assert first.question in text
    affected = decision.measure(first.affects[0]).title
    assert f"affects: {affected}" in text
    assert first.affects[0] not in text.replace(affected, "")
    assert "more questions (--details shows all)" in text


def test_values_that_look_like_markup_print_as_written(no_engine: Engine) -> None:
    decision = _decide(no_engine, ROOT / "fixtures" / "enslig-oslo-lavinntekt.yaml")
    first = decision.measures[0]
    odd = first.model_copy(update={"title": "[/bold] :100: [red]x"})
    decision = decision.model_copy(update={"measures": [odd, *decision.measures[1:]]})
    text = "\n".join(_render(decision, 120, False, Labels()))
    assert "[/bold] :100: [red]x" in text
    assert "💯" not in text
