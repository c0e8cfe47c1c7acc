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
import importlib.util
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from time import perf_counter_ns, thread_time_ns
from types import ModuleType
from typing import Any

from eligibility import Engine, load_pack
from eligibility.facts import FactValidator, ValidFacts
from eligibility.pack.model import RulePack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anchors import AS_OF, default_anchors, facts_of, population

ROOT = Path(__file__).resolve().parents[1]


def _module(rev: str) -> ModuleType:
    text = subprocess.run(["git", "show", f"{rev}:src/eligibility/facts.py"], cwd=ROOT,
                          capture_output=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "facts_rev.py"
    path.write_bytes(text)
    spec = importlib.util.spec_from_file_location("_facts_rev", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _anchor_documents(n: int) -> list[dict[str, Any]]:
    sys.path.insert(0, default_anchors())
    import rules_common  # type: ignore[import-not-found]
    return [facts_of(h) for h in rules_common.generate_households(n, seed=7)]


def _paired(old: Callable[[Any], Any], new: Callable[[Any], Any],
            documents: list[dict[str, Any]], rounds: int,
            clock: Callable[[], int]) -> tuple[float, float, float]:
    """Medians of ``old`` and ``new`` per document (µs) and of the per-chunk ratios
    old/new: chunks of 20 documents, each timed with both, in alternating order."""
    ratios: list[float] = []
    olds: list[float] = []
    news: list[float] = []
    for r in range(rounds):
        for i in range(0, len(documents), 20):
            chunk = documents[i:i + 20]
            first, second = (old, new) if (i // 20 + r) % 2 else (new, old)
            t0 = clock()
            for document in chunk:
                first(document)
            t1 = clock()
            for document in chunk:
                second(document)
            t2 = clock()
            o, n = (t1 - t0, t2 - t1) if first is old else (t2 - t1, t1 - t0)
            ratios.append(o / n)
            olds.append(o / len(chunk) / 1e3)
            news.append(n / len(chunk) / 1e3)
    return statistics.median(olds), statistics.median(news), statistics.median(ratios)


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
    o, w, ratio = _paired(partial(old_engine.evaluate, as_of=AS_OF),
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
    old = _module(args.rev)
    clock = thread_time_ns if args.clock == "cpu" else perf_counter_ns
    rules_no = load_pack(ROOT / "rules/no")
    sets = {"anchor": (load_pack(ROOT / "bench/anchors"), _anchor_documents(2000)),
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
        o, n, ratio = _paired(quick_old, quick_new, documents, args.rounds, clock)
        print(f"{name:22s} {args.rev} {o:6.2f} µs   this tree {n:6.2f} µs   paired "
              f"{ratio:.3f}x")
    if args.evaluate:
        for missing in (0.0, 0.2):
            _evaluate(old, rules_no, missing, args.evaluate, args.rev, clock)


if __name__ == "__main__":
    main()
