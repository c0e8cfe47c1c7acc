"""The README's worked calculation tables are what the engine's calculation gives today."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from eligibility import Engine, load_pack

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_calculations", ROOT / "scripts" / "readme_calculations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_are_generated_from_the_calculation() -> None:
    script = _script()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count("<!-- calculation:") >= 2
    engine = Engine(load_pack(ROOT / "rules" / "no"))
    assert script.render(text, engine) == text, \
        "README.md is out of date: run python scripts/readme_calculations.py"
    # and a stale table is noticed
    stale = text.replace("| 39 487.6472 NOK/year |", "| 39 487.65 NOK/year |")
    assert stale != text and script.render(stale, engine) == text
