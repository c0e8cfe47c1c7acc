"""Paired A/B of ``FactValidator.quick``: this tree's against another revision's.

Imports ``src/eligibility/facts.py`` of ``--rev`` (read with ``git show``; default
``b63e9ff``, the quick path before its exact pass was rewritten) under another name and
times both on the same documents it has not seen before: the anchor set's generated
households and ``rules/no`` households from :func:`eligibility.batch.generate.generate`
(complete, and with each optional fact missing with p=0.2), whole decimals as ints as a
JSON body gives them. Chunks of 20 documents alternate old and new; it prints the
medians per document and the median of the per-chunk ratios (old/new), and first checks
that both give the same ValidFacts. ``--evaluate N`` also times the full
``Engine.evaluate`` of rules/no with each revision's validator on ``N`` households the
engines (warmed on 2000) have not seen, each once per engine. ``--clock cpu`` times
this thread's CPU time instead of the wall clock (steadier while other processes share
the cores).

    .venv/bin/python bench/bench_facts_quick.py [--rev b63e9ff] [--rounds 3] [--clock cpu]
        [--evaluate 1000]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from time import perf_counter_ns, thread_time_ns
from types import ModuleType

from eligibility import Engine, load_pack
from eligibility.facts import FactValidator, ValidFacts
from eligibility.pack.model import RulePack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anchors import AS_OF, population
from revisions import anchor_documents, module_at, paired

ROOT = Path(__file__).resolve().parents[1]


def _evaluate(old: ModuleType, pack: RulePack, missing: float, n: int, rev: str,
              clock: Callable[[], int]) -> None:
    """The full ``Engine.evaluate`` of rules/no with this tree's validator against one
    with ``old``'s: each engine warmed on 2000 households, then ``n`` it has not seen
    (each timed once per engine, in alternating chunks)."""
    new_engine, old_engine = Engine(pack), Engine(pack)
    old.ValidFacts = ValidFacts  # (so that the engine takes its answer as validated)
    old_engine.validator = old.FactValidator(pack.schema)
    for engine in (new_engine, old_engine):
        for document in population(pack, 2000, 11, missing):
            engine.evaluate(document, AS_OF)
    documents = population(pack, n, 12, missing)
    o, w, ratio = paired(partial(old_engine.evaluate, as_of=AS_OF),
                          partial(new_engine.evaluate, as_of=AS_OF), documents, 1, clock)
    print(f"{'evaluate missing=' + str(missing):22s} {rev} {o:6.1f} µs   this tree "
          f"{w:6.1f} µs   paired {ratio:.3f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="b63e9ff")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this thread's CPU time (steadier on a shared machine)")
    parser.add_argument("--evaluate", type=int, default=0, metavar="N",
                        help="also the full Engine.evaluate of rules/no on N unseen "
                             "households, with each revision's validator")
    args = parser.parse_args()
    old = module_at(args.rev, "src/eligibility/facts.py", "_facts_rev")
    clock = thread_time_ns if args.clock == "cpu" else perf_counter_ns
    rules_no = load_pack(ROOT / "rules/no")
    sets = {"anchor": (load_pack(ROOT / "bench/anchors"), anchor_documents(2000, 7)),
            "rules/no complete": (rules_no, population(rules_no, 1000, 3, 0.0)),
            "rules/no missing=0.2": (rules_no, population(rules_no, 1000, 4, 0.2))}
    for name, (pack, documents) in sets.items():
        quick_old = old.FactValidator(pack.schema).quick
        quick_new = FactValidator(pack.schema).quick
        for document in documents[:200]:
            a, b = quick_old(document), quick_new(document)
            assert (a is None) == (b is None)
            if b is not None:
                assert tuple(a) == tuple(b)
        o, n, ratio = paired(quick_old, quick_new, documents, args.rounds, clock)
        print(f"{name:22s} {args.rev} {o:6.2f} µs   this tree {n:6.2f} µs   paired "
              f"{ratio:.3f}x")
    if args.evaluate:
        for missing in (0.0, 0.2):
            _evaluate(old, rules_no, missing, args.evaluate, args.rev, clock)


if __name__ == "__main__":
    main()
