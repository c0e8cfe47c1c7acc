"""Request examples for the OpenAPI document, taken from the bundled fixtures.

:func:`examples_for` collects, for one served pack, the households of the
bundled ``fixtures/*.yaml`` that fit the pack's fact schema (named after the
file, summarised by the file's first comment line, dated by the pack case with
the same facts when there is one). A pack no fixture fits (such as the test
pack) falls back to its own cases. Examples are plain JSON values; a fixture
that cannot be read is skipped, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from eligibility.engine import Engine
from eligibility.errors import FactsError, PackError
from eligibility.pack.yamlio import YamlError, load_facts_text, plain, read_text_file

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Example:
    """One household usable as a request example."""

    name: str
    summary: str
    facts: dict[str, Any]
    as_of: date | None


def to_json(value: Any) -> Any:
    """YAML values (Decimal, date) as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def fixture_dirs(engine: Engine) -> list[Path]:
    candidates = [Path.cwd() / "fixtures",
                  engine.pack.root.resolve().parent.parent / "fixtures",
                  Path(__file__).resolve().parents[3] / "fixtures"]
    out: list[Path] = []
    for c in candidates:
        if c.is_dir() and c.resolve() not in out:
            out.append(c.resolve())
    return out


def _summary(text: str, fallback: str) -> str:
    """The first sentence of the file's leading comment block."""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        lines.append(stripped.lstrip("#").strip())
    sentence = " ".join(lines).split(". ")[0].rstrip(".")
    return sentence[:200] or fallback


def examples_for(engine: Engine) -> list[Example]:
    """Up to :data:`MAX_EXAMPLES` households that fit ``engine``'s pack."""
    case_dates: dict[str, date] = {}
    try:
        cases = engine.pack.cases  # read on first use; a broken case file is no example
    except PackError:
        cases = ()
    for case in cases:
        try:
            case_dates.setdefault(engine.validate(case.facts).sha256, case.as_of)
        except FactsError:
            continue
    found: list[Example] = []
    for folder in fixture_dirs(engine):
        for path in sorted(folder.glob("*.yaml")):
            try:
                text = read_text_file(path, path.name)
                facts = load_facts_text(text, path.name)
                valid = engine.validate(facts)
            except (OSError, UnicodeDecodeError, YamlError, FactsError):
                continue
            found.append(Example(path.stem, _summary(text, path.stem), to_json(facts),
                                 case_dates.get(valid.sha256)))
            if len(found) >= MAX_EXAMPLES:
                return found
    if found:
        return found
    for case in cases[:MAX_EXAMPLES]:
        found.append(Example(Path(case.file).stem, case.name, to_json(plain(case.facts)),
                             case.as_of))
    return found
