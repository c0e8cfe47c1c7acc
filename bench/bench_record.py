"""Paired A/B of the calculation recorders: this tree's against another revision's.

Imports ``src/eligibility/compile/calculation/recording.py`` and
``src/eligibility/compile/fast/run.py`` of ``--rev`` (read with ``git show``; default
``main``) under other names, builds two engines on the same pack (one records with the
revision's ``_record_env`` / ``_record``, the other with this tree's), warms both on the
same households, and then, on households neither has seen, calls
``Engine.outcomes`` on both in turn (the order alternating per household) and times
the recording alone (``_record_env`` and ``_record``, with everything they call) and the
whole call. Sets: the anchor set's generated households (``anchor``), and ``rules/no``
households from :func:`eligibility.batch.generate.generate`, complete (``no0``) and
with each optional fact missing with p=0.2 (``no2``). It prints per set the medians
per household and the median of the per-household ratios (revision / this tree), and
first checks that both engines give the same Decision JSON. The garbage collector is
off while timing (it would land on one side or the other at random).

The revision's modules import the rest of this tree, so ``--rev`` must be one whose
recorders fit it (those of this round's issue 9 work do).

    .venv/bin/python bench/bench_record.py [--rev main] [--sets anchor,no0,no2] [--n 1000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from time import perf_counter_ns
from typing import Any

from eligibility import Engine, load_pack
from eligibility.compile.fast import run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anchors import POPULATION_WARM, population
from revisions import anchor_documents, module_at

ROOT = Path(__file__).resolve().parents[1]


class _Sides:
    """Routes ``run._record_env`` / ``run._record`` to the revision's or this tree's by
    the engine the measure plan belongs to, and adds up the time spent there."""

    def __init__(self, rev: str) -> None:
        old_rec = module_at(rev, "src/eligibility/compile/calculation/recording.py",
                          "eligibility.compile.calculation._rev_recording")
        old_run = module_at(rev, "src/eligibility/compile/fast/run.py",
                          "eligibility.compile.fast._rev_run")
        old_run.record_env = old_rec.record_env  # type: ignore[attr-defined]
        old_run.record = old_rec.record  # type: ignore[attr-defined]
        self.fns: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
            "old": (old_run._record_env, old_run._record),
            "new": (run._record_env, run._record)}
        self.side: dict[int, str] = {}
        self.spent = {"old": 0, "new": 0}

        def record_env(plan: Any, mp: Any, *args: Any) -> Any:
            side = self.side[id(mp.cm.calculation)]
            t = perf_counter_ns()
            found = self.fns[side][0](plan, mp, *args)
            self.spent[side] += perf_counter_ns() - t
            return found

        def record(mp: Any, *args: Any, **kwargs: Any) -> Any:
            side = self.side[id(mp.cm.calculation)]
            t = perf_counter_ns()
            found = self.fns[side][1](mp, *args, **kwargs)
            self.spent[side] += perf_counter_ns() - t
            return found

        run._record_env = record_env  # type: ignore[assignment]
        run._record = record  # type: ignore[assignment]

    def engine(self, pack: Any, side: str) -> Engine:
        engine = Engine(pack)
        for cm in engine.compiled.measures:
            if cm.calculation is not None:
                self.side[id(cm.calculation)] = side
        return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="main")
    parser.add_argument("--sets", default="anchor,no0,no2")
    parser.add_argument("--n", type=int, default=1000, help="unseen households per set")
    args = parser.parse_args()
    sides = _Sides(args.rev)
    for name in args.sets.split(","):
        if name == "anchor":
            pack = load_pack(ROOT / "bench/anchors")
            as_of = date(2025, 6, 1)
            warm = anchor_documents(200, 99)
            documents = anchor_documents(args.n + 200, 7)
        else:
            pack = load_pack(ROOT / "rules/no")
            as_of = date(2026, 6, 1)
            missing = {"no0": 0.0, "no2": 0.2}[name]
            warm = population(pack, POPULATION_WARM, 1, missing)
            documents = population(pack, args.n + 200, 2, missing)
        engines = {side: sides.engine(pack, side) for side in ("old", "new")}
        for document in warm:
            for engine in engines.values():
                engine.outcomes(document, as_of)
        for document in documents[:200]:  # (seen by both from here on: not timed)
            a, b = (engines[s].evaluate_json(document, as_of) for s in ("old", "new"))
            assert a == b, f"{name}: the two revisions' decisions differ"
        spent: dict[str, list[int]] = {"old": [], "new": []}
        whole: dict[str, list[int]] = {"old": [], "new": []}
        gc.collect()
        gc.disable()
        try:
            for i, document in enumerate(documents[200:]):
                for side in (("old", "new") if i % 2 else ("new", "old")):
                    sides.spent[side] = 0
                    t = perf_counter_ns()
                    engines[side].outcomes(document, as_of)
                    whole[side].append(perf_counter_ns() - t)
                    spent[side].append(sides.spent[side])
        finally:
            gc.enable()
        for label, times in (("recording", spent), ("outcomes", whole)):
            old, new = (statistics.median(times[s]) / 1e3 for s in ("old", "new"))
            paired = statistics.median([o / n for o, n in zip(times["old"], times["new"],
                                                               strict=True) if n])
            print(f"{name:6s} {label:9s} {args.rev} {old:7.2f} µs   this tree {new:7.2f} µs"
                  f"   paired {paired:.3f}x")


if __name__ == "__main__":
    main()
