"""Paired A/B of ``FactValidator.quick``: this tree's against another revision's.

Imports ``src/eligibility/facts.py`` of ``--rev`` (read with ``git show``; default
``b63e9ff``, the quick path before its exact pass was rewritten) under another name and
times both on the same documents it has not seen before: the anchor set's generated
households and ``rules/no`` households from :func:`eligibility.batch.generate.generate`
(complete, and with each optional fact missing with p=0.2), whole decimals as ints as a
JSON body gives them. Chunks of 20 documents alternate old and new; it prints the
medians per document and the median of the per-chunk ratios (old/new), and first checks
that both give the same ValidFacts. ``--clock cpu`` times this thread's CPU time
instead of the wall clock (steadier while other processes share the cores).

    .venv/bin/python bench/bench_facts_quick.py [--rev b63e9ff] [--rounds 3] [--clock cpu]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter_ns, thread_time_ns
from types import ModuleType
from typing import Any

from eligibility import load_pack
from eligibility.facts import FactValidator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anchors import default_anchors, facts_of, population

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="b63e9ff")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this thread's CPU time (steadier on a shared machine)")
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
        ratios: list[float] = []
        olds: list[float] = []
        news: list[float] = []
        for r in range(args.rounds):
            for i in range(0, len(documents), 20):
                chunk = documents[i:i + 20]
                first, second = (quick_old, quick_new) if (i // 20 + r) % 2 else \
                    (quick_new, quick_old)
                t0 = clock()
                for document in chunk:
                    first(document)
                t1 = clock()
                for document in chunk:
                    second(document)
                t2 = clock()
                o, n = (t1 - t0, t2 - t1) if first is quick_old else (t2 - t1, t1 - t0)
                ratios.append(o / n)
                olds.append(o / len(chunk) / 1e3)
                news.append(n / len(chunk) / 1e3)
        print(f"{name:22s} {args.rev} {statistics.median(olds):6.2f} µs   this tree "
              f"{statistics.median(news):6.2f} µs   paired {statistics.median(ratios):.3f}x")


if __name__ == "__main__":
    main()
