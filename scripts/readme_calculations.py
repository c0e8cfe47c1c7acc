"""Generate the README's worked calculation tables from the engine's calculation.

Each block in README.md between
``<!-- calculation: CASE MEASURE [LANG] [step,step,...] -->`` and ``<!-- /calculation -->``
is replaced by the Markdown view (:func:`eligibility.explain.calculation.calculation_markdown`)
of the Decision for ``rules/no/cases/CASE.yaml`` at the case's own date: the measure's
calculation steps, all of them or those listed. ``python scripts/readme_calculations.py``
rewrites README.md; ``--check`` exits 1 when README.md differs from what it would write
(tests/test_readme_calculations.py runs that check).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from eligibility import Engine, load_pack
from eligibility.explain.calculation import calculation_markdown

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- calculation: (?P<args>[^>]*?) -->\n)(?P<body>.*?)"
                   r"(<!-- /calculation -->)", re.S)


def render(text: str, engine: Engine) -> str:
    """``text`` with every calculation block regenerated."""
    cases = {Path(c.file).stem: c for c in engine.pack.cases}

    def block(match: re.Match[str]) -> str:
        args = match["args"].split()
        case_name, measure = args[0], args[1]
        lang = args[2] if len(args) > 2 else "en"
        steps = args[3].split(",") if len(args) > 3 else None
        case = cases.get(case_name)
        if case is None:
            raise SystemExit(f"README.md: no case {case_name!r} in rules/no/cases")
        decision = engine.evaluate(case.facts, as_of=case.as_of, lang=lang)
        table = calculation_markdown(decision.measure(measure), lang, steps)
        return f"{match[1]}{table}\n{match[4]}"

    return BLOCK.sub(block, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="Exit 1 if README.md is not what this script would write.")
    args = parser.parse_args()
    engine = Engine(load_pack(ROOT / "rules" / "no"))
    text = README.read_text(encoding="utf-8")
    new = render(text, engine)
    if args.check:
        if new != text:
            print("README.md calculation tables are out of date: run "
                  "python scripts/readme_calculations.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
