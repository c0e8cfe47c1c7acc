"""The sweep's table and file chart: only the varying measures, 120 columns, plain numbers."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from eligibility import Engine, load_pack
from eligibility.explain.chart import sweep_table, unchanged_note, varying, write_chart
from eligibility.explain.terminal import format_amount
from eligibility.sweep import SweepResult, sweep

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def result() -> SweepResult:
    engine = Engine(load_pack(ROOT / "rules" / "no"))
    facts = yaml.safe_load((ROOT / "fixtures" / "enslig-oslo-lavinntekt.yaml").read_text())
    return sweep(engine, facts, "members[0].income_month", Decimal(0), Decimal(40000),
                 Decimal(4000), date(2026, 7, 1), "en")


def _text(renderable: object, width: int) -> list[str]:
    console = Console(width=width, record=True, file=open("/dev/null", "w"),  # noqa: SIM115
                      color_system=None)
    console.print(renderable)
    console.file.close()
    return console.export_text().splitlines()


def test_the_table_shows_only_the_measures_that_vary_and_fits_120_columns(
        result: SweepResult) -> None:
    moving = varying(result)
    assert [m.id for m in moving] == ["bostotte"]
    lines = _text(sweep_table(result), 120)
    assert all(len(line) <= 120 for line in lines)
    text = "\n".join(lines)
    for point in result.points:
        cell = point.measures["bostotte"]
        if cell.amount is not None:
            assert format_amount(cell.amount, None, "en", nbsp=True) in text
    note = unchanged_note(result)
    assert note is not None and "Start-up loan" in note and "Housing allowance" not in note
    assert unchanged_note(result, all_measures=True) is None
    everything = "\n".join(_text(sweep_table(result, all_measures=True), 400))
    assert "Start-up loan" in everything


def test_the_chart_labels_numbers_with_thousands_separators(result: SweepResult,
                                                            tmp_path: Path) -> None:
    import matplotlib

    svg = tmp_path / "sweep.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text in the SVG
        write_chart(result, svg)
    # only what is drawn as text: the ids of clip paths are random hex and may hold "1e6"
    text = " ".join(re.findall(r">([^<]*)<", svg.read_text()))
    assert "40 000" in text and "1 200 000" in text
    assert "1e6" not in text and "×10" not in text and "1e5" not in text
