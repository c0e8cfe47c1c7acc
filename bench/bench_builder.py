"""Paired A/B of the decision builder: this tree's ``DecisionBuilder`` against another
revision's.

Imports ``src/eligibility/decision_build/`` of ``--rev`` (read with ``git show``; default
``882c9a9``, before the ninth round on issue 9) as a package of another name and times
both builders on the same outcomes, made once by this tree's core, of households no
builder has seen before: the anchor set's generated households and ``rules/no``
households from :func:`eligibility.batch.generate.generate` (complete, and with each
optional fact missing with p=0.2). Each builder is warmed first on
:data:`WARM` other households (as an engine in service is); then chunks of 20 outcomes
alternate old and new (each builder builds each household once). It prints the medians
per household and the median of the per-chunk ratios (old/new) for a full Decision
without the calculation steps, the summary and ``_criteria`` alone, and first checks
that both give the same JSON bytes; then the whole evaluate (``calculation=False``, and
the summary) of two engines that differ only in their builder, on households neither
has seen (the builder in service runs right after the core: its figure there is not
the builder's alone on outcomes made long before).

    .venv/bin/python bench/bench_builder.py [--rev 882c9a9] [--n 1000]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from eligibility import Engine, load_pack
from eligibility.decision_build import DecisionBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anchors import AS_OF, population
from revisions import anchor_documents, paired, source_at

ROOT = Path(__file__).resolve().parents[1]
#: households each builder builds before it is timed
WARM = 2000
_PACKAGE = "eligibility/decision_build"


def _module(rev: str) -> ModuleType:
    """``rev``'s decision_build package, imported as ``_decision_build_rev``."""
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{rev}:src/{_PACKAGE}"],
                           cwd=ROOT, capture_output=True, check=True, text=True).stdout.split()
    folder = Path(tempfile.mkdtemp()) / "_decision_build_rev"
    folder.mkdir()
    for name in names:
        if name.endswith(".py"):
            text = source_at(rev, f"src/{_PACKAGE}/{name}")
            (folder / name).write_text(text.replace("eligibility.decision_build.",
                                                    "_decision_build_rev."))
    sys.path.insert(0, str(folder.parent))
    return importlib.import_module("_decision_build_rev.builder")


def _criteria(builder: Any) -> Callable[[Any], Any]:
    """``builder._criteria`` of one household's outcomes (it takes the date since
    this round)."""
    if "when" in inspect.signature(builder._criteria).parameters:
        return lambda out: builder._criteria(out.criteria, "nb", out.as_of)
    return lambda out: builder._criteria(out.criteria, "nb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="882c9a9")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    old_module = _module(args.rev)
    rules_no = load_pack(ROOT / "rules/no")
    anchors = load_pack(ROOT / "bench/anchors")
    sets = {
        "anchor": (anchors, lambda n, seed: anchor_documents(n, seed)),
        "rules/no complete": (rules_no, lambda n, seed: population(rules_no, n, seed, 0.0)),
        "rules/no missing=0.2": (rules_no, lambda n, seed: population(rules_no, n, seed, 0.2)),
    }
    print(f"{'':22s}{'part':10s}{args.rev:>10s}{'this tree':>11s}{'paired':>9s}")
    for name, (pack, documents) in sets.items():
        engine = Engine(pack)
        seeds = iter(range(11, 100))
        for detail in ("full", "summary"):
            full = detail == "full"
            old = old_module.DecisionBuilder(engine.compiled)
            new = DecisionBuilder(engine.compiled)

            def outcomes(n: int, full: bool = full, engine: Engine = engine,
                         documents: Any = documents, seeds: Any = seeds) -> list[Any]:
                return [engine.outcomes(facts, AS_OF, observe=full, calculation=False)
                        for facts in documents(n, next(seeds))]

            for out in outcomes(WARM):
                a = old.build(out, "nb", detail)
                b = new.build(out, "nb", detail)
                assert new.json(b) == b.model_dump_json().encode() == a.model_dump_json(
                ).encode(), name
            unseen = outcomes(args.n)
            figures = paired(lambda o, b=old, d=detail: b.build(o, "nb", d),
                              lambda o, b=new, d=detail: b.build(o, "nb", d), unseen)
            label = "nocalc" if full else "summary"
            print(f"{name:22s}{label:10s}{figures[0]:9.2f} {figures[1]:9.2f}  "
                  f"{figures[2]:7.3f}x")
            if full:
                figures = paired(_criteria(old), _criteria(new), outcomes(args.n))
                print(f"{name:22s}{'_criteria':10s}{figures[0]:9.2f} {figures[1]:9.2f}  "
                      f"{figures[2]:7.3f}x")
            # in service: the whole evaluate, one engine per builder (the same core), each
            # warmed, on households neither has seen (the builder runs right after the
            # core, as it does in service, not on outcomes made long before)
            engines = []
            for builder in (old_module.DecisionBuilder, DecisionBuilder):
                eng = Engine(pack)
                eng.builder = builder(eng.compiled)
                for facts in documents(WARM, next(seeds)):
                    eng.evaluate(facts, AS_OF, calculation=False, detail=detail)
                engines.append(eng)
            figures = paired(
                lambda f, e=engines[0], d=detail: e.evaluate(f, AS_OF, calculation=False,
                                                             detail=d),
                lambda f, e=engines[1], d=detail: e.evaluate(f, AS_OF, calculation=False,
                                                             detail=d),
                documents(args.n, next(seeds)))
            print(f"{name:22s}{'evaluate':10s}{figures[0]:9.2f} {figures[1]:9.2f}  "
                  f"{figures[2]:7.3f}x   (the whole {label} evaluate)")


if __name__ == "__main__":
    main()
