"""Paired A/B of the fast path with facts missing: this tree's against another revision's.

Imports ``compile/fast/run.py``, ``compile/fast/pack.py``, ``compile/fast/plan.py`` and
``compile/reference.py`` of ``--rev`` (read with ``git show``; default ``882c9a9``, the
mixed path before the ninth round) under other names, the rest of the package from this
tree, and gives each of ``--pairs`` engine pairs one old and one new ``FastPack``. Then:

* the ``rules/no`` population (:func:`bench_anchors.population`, each optional fact
  absent with p=``--missing``): both engines of every pair warmed on 2000 households,
  then ``--n`` households neither has seen, each timed once on every engine (old and new
  alternating first); per household the minimum over the pairs (a busy machine's spikes
  fall out), and the ratio of the sums (old/new) and the median per-household ratio, for
  ``Engine.outcomes`` (the core, observed, with the calculation), ``calculation=False``,
  the summary's core (``observe=False, calculation=False``) and full ``evaluate``;
* the six fixtures, each the first time an engine sees it (engines warmed on the other
  five, as ``prof_rules_no.py`` does): per fixture the minimum over ``--rounds`` engine
  pairs, and the ratio of the sums.

It first checks that old and new give equal outcomes on 200 more households (observed or
not, with the calculation or not). Never a household an engine has seen is timed.

    .venv/bin/python bench/bench_mixed.py [--rev 882c9a9] [--missing 0.2] [--n 400]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from datetime import date
from pathlib import Path
from time import perf_counter
from types import ModuleType
from typing import Any

import yaml

from eligibility import Engine, load_pack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anchors import population
from revisions import module_at

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 6, 1)
#: the modules taken from the other revision, in import order, and who imports them
_OLD = (("plan", "compile/fast/plan.py"), ("reference", "compile/reference.py"),
        ("run", "compile/fast/run.py"), ("pack", "compile/fast/pack.py"))
_NAMES = {"plan": "eligibility.compile.fast.plan", "reference": "eligibility.compile.reference",
          "run": "eligibility.compile.fast.run", "pack": "eligibility.compile.fast.pack"}


def _old_pack(rev: str) -> ModuleType:
    """``rev``'s FastPack module, importing ``rev``'s run, plan and reference modules."""
    renames = {f"from {_NAMES[other]} import": f"from _old_{other} import"
               for other, _ in _OLD}
    module = None
    for short, path in _OLD:
        module = module_at(rev, f"src/eligibility/{path}", f"_old_{short}", renames)
    assert module is not None
    return module


def _calls(engine: Engine) -> dict[str, Any]:
    return {"core": lambda d: engine.outcomes(d, AS_OF),
            "no calc": lambda d: engine.outcomes(d, AS_OF, calculation=False),
            "summary core": lambda d: engine.outcomes(d, AS_OF, observe=False,
                                                      calculation=False),
            "full": lambda d: engine.evaluate(d, AS_OF)}


def _pair(pack: Any, old: ModuleType) -> tuple[Engine, Engine]:
    a, b = Engine(pack), Engine(pack)
    a.fast = old.FastPack(a.compiled)
    return a, b


def _check(pack: Any, old: ModuleType, missing: float) -> None:
    engine = Engine(pack)
    fast_old = old.FastPack(engine.compiled)
    for document in population(pack, 200, 5, missing):
        valid = engine.validate(document, AS_OF)
        for observe, calculation in ((True, True), (True, False), (False, False)):
            assert fast_old.evaluate_household(valid, AS_OF, observe, calculation) == \
                engine.fast.evaluate_household(valid, AS_OF, observe, calculation), \
                "the revisions give different outcomes"


def _population(pack: Any, old: ModuleType, args: argparse.Namespace) -> None:
    warm = population(pack, 2000, 1, args.missing)
    pairs = []
    for _ in range(args.pairs):
        a, b = _pair(pack, old)
        for document in warm:
            a.outcomes(document, AS_OF)
            b.outcomes(document, AS_OF)
        pairs.append((_calls(a), _calls(b)))
    modes = list(pairs[0][0])
    documents = population(pack, args.n * len(modes), 2, args.missing)
    print(f"rules/no population, missing={args.missing}: {args.pairs} engine pairs warmed "
          f"on 2000 households, {args.n} unseen ones per row; per household the minimum "
          f"over the pairs")
    for at, mode in enumerate(modes):
        olds: list[float] = []
        news: list[float] = []
        gc.collect()
        for j, document in enumerate(documents[at * args.n:(at + 1) * args.n]):
            o_times, n_times = [], []
            for k, (calls_old, calls_new) in enumerate(pairs):
                first, second = ((calls_old, calls_new) if (j + k) % 2
                                 else (calls_new, calls_old))
                t0 = perf_counter()
                first[mode](document)
                t1 = perf_counter()
                second[mode](document)
                t2 = perf_counter()
                o, n = (t1 - t0, t2 - t1) if first is calls_old else (t2 - t1, t1 - t0)
                o_times.append(o)
                n_times.append(n)
            olds.append(min(o_times))
            news.append(min(n_times))
        print(f"  {mode:13s} {args.rev} {statistics.median(olds) * 1e6:6.0f} µs   this tree "
              f"{statistics.median(news) * 1e6:6.0f} µs   sum ratio "
              f"{sum(olds) / sum(news):.3f}x   median per household "
              f"{statistics.median([o / n for o, n in zip(olds, news, strict=True)]):.3f}x")


def _fixtures(pack: Any, old: ModuleType, args: argparse.Namespace) -> None:
    documents = [yaml.safe_load(p.read_text(encoding="utf-8"))
                 for p in sorted((ROOT / "fixtures").glob("*.yaml"))]
    print(f"rules/no fixtures, the first time an engine sees each (engines warmed on the "
          f"other five; per fixture the minimum over {args.rounds} engine pairs):")
    for mode in ("core", "summary core", "full"):
        olds: list[float] = []
        news: list[float] = []
        for j, document in enumerate(documents):
            times: tuple[list[float], list[float]] = ([], [])
            for r in range(args.rounds):
                a, b = _pair(pack, old)
                for k, other in enumerate(documents):
                    if k != j:
                        a.evaluate(other, AS_OF)
                        b.evaluate(other, AS_OF)
                calls = (_calls(a)[mode], _calls(b)[mode])
                for which in ((0, 1) if (r + j) % 2 else (1, 0)):
                    t0 = perf_counter()
                    calls[which](document)
                    times[which].append(perf_counter() - t0)
            olds.append(min(times[0]))
            news.append(min(times[1]))
        print(f"  {mode:13s} {args.rev} {sum(olds) / len(olds) * 1e6:6.0f} µs   this tree "
              f"{sum(news) / len(news) * 1e6:6.0f} µs (mean of the six)   sum ratio "
              f"{sum(olds) / sum(news):.3f}x   per fixture "
              + " ".join(f"{o / n:.2f}" for o, n in zip(olds, news, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rev", default="882c9a9")
    parser.add_argument("--missing", type=float, default=0.2)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--no-fixtures", action="store_true")
    args = parser.parse_args()
    pack = load_pack(ROOT / "rules" / "no")
    old = _old_pack(args.rev)
    _check(pack, old, args.missing)
    _population(pack, old, args)
    if not args.no_fixtures:
        _fixtures(pack, old, args)


if __name__ == "__main__":
    main()
