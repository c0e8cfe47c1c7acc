"""Paired A/B of the calculation step views (``StepViews.steps``): this tree's against
another revision's.

Imports ``src/eligibility/explain/calculation.py`` of ``--rev`` (read with ``git show``;
default ``main``) under another name. An engine evaluates households in full and the
recorded steps every ``steps()`` call receives are kept (the recorder's own objects, so
that what it shares stays shared): for the warm-up households first, then for households
it has not seen. Each side gets its own :class:`StepViews` of the pack's decimals,
warmed on the warm-up calls; then chunks of 20 unseen households' calls alternate old and
new, each side meeting every chunk for the first time. It prints the µs per household
of each and the median of the per-chunk ratios (old/new), after checking both give
equal steps; then the same for the full ``Engine.evaluate`` of those households (with
the collector on): two engines warmed alike, one building its steps with the old
module's :class:`StepViews`, alternating chunks. Sets: the anchor set's generated
households and ``rules/no`` households from :func:`eligibility.batch.generate.generate`
(complete, and with each optional fact missing with p=0.2). Last, the views of a new
engine: a fresh :class:`StepViews` of each side over the steps of the six ``fixtures/``
(as recorded the first time an engine sees each), 200 alternating passes.

    .venv/bin/python bench/bench_views.py [--rev main] [--n 1000] [--warm 2000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from datetime import date
from pathlib import Path
from time import perf_counter_ns
from types import ModuleType
from typing import Any

from eligibility import Engine, load_pack
from eligibility.explain.calculation import StepViews, pack_decimals
from eligibility.pack.yamlio import load_yaml_file, plain

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_anchors import AS_OF, population
from revisions import anchor_documents, module_at

ROOT = Path(__file__).resolve().parents[1]
RULES_NO_AS_OF = date(2026, 6, 1)


Calls = list[list[tuple[Any, str]]]  # per household: its steps() calls (steps, lang)


def _recorded(engine: Engine, documents: list[dict[str, Any]], as_of: date) -> Calls:
    """Every household's ``steps()`` calls while ``engine`` evaluates it in full."""
    views = engine.builder._steps
    calls: list[tuple[Any, str]] = []

    def keep(steps: Any, lang: str) -> Any:
        calls.append((steps, lang))
        return StepViews.steps(views, steps, lang)

    views.steps = keep  # type: ignore[method-assign]
    out: Calls = []
    for document in documents:
        calls = []
        engine.evaluate(document, as_of)
        out.append(calls)
    del views.steps
    return out


def _run(fn: Any, calls: Calls) -> int:
    t = perf_counter_ns()
    for household in calls:
        for steps, lang in household:
            fn(steps, lang)
    return perf_counter_ns() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="main")
    parser.add_argument("--n", type=int, default=1000, help="unseen households per set")
    parser.add_argument("--warm", type=int, default=2000, help="warm-up households per set")
    args = parser.parse_args()
    old = module_at(args.rev, "src/eligibility/explain/calculation.py", "_calculation_rev")
    rules_no = load_pack(ROOT / "rules/no")
    anchors = load_pack(ROOT / "bench/anchors")
    sets = {
        "anchor": (anchors, AS_OF, anchor_documents(args.warm, 99),
                   anchor_documents(args.n, 7)),
        "rules/no complete": (rules_no, RULES_NO_AS_OF, population(rules_no, args.warm, 1, 0.0),
                              population(rules_no, args.n, 2, 0.0)),
        "rules/no missing=0.2": (rules_no, RULES_NO_AS_OF,
                                 population(rules_no, args.warm, 1, 0.2),
                                 population(rules_no, args.n, 2, 0.2))}
    print(f"steps() per household, {args.rev} (old) against this tree (new); "
          "chunks of 20 unseen households alternate")
    _cold(old, rules_no)
    for name, (pack, as_of, warm, unseen) in sets.items():
        engine = Engine(pack)
        warm_calls = _recorded(engine, warm, as_of)
        calls = _recorded(engine, unseen, as_of)
        decimals = pack_decimals(pack.parameters)
        views_old, views_new = old.StepViews(decimals), StepViews(decimals)
        for household in warm_calls:
            for steps, lang in household:
                a, b = views_old.steps(steps, lang), views_new.steps(steps, lang)
                assert [s.__dict__ for s in a] == [s.__dict__ for s in b]
        for household in calls[:100]:  # (checked on fresh views: the timed ones meet all)
            for steps, lang in household:
                a = old.StepViews(decimals).steps(steps, lang)
                b = StepViews(decimals).steps(steps, lang)
                assert [s.__dict__ for s in a] == [s.__dict__ for s in b]
        ratios: list[float] = []
        olds: list[float] = []
        news: list[float] = []
        gc.collect()
        gc.disable()
        try:
            for i in range(0, len(calls), 20):
                chunk = calls[i:i + 20]
                if (i // 20) % 2:
                    t_old = _run(views_old.steps, chunk)
                    t_new = _run(views_new.steps, chunk)
                else:
                    t_new = _run(views_new.steps, chunk)
                    t_old = _run(views_old.steps, chunk)
                olds.append(t_old / len(chunk) / 1000)
                news.append(t_new / len(chunk) / 1000)
                ratios.append(t_old / t_new)
        finally:
            gc.enable()
        per = statistics.mean(len(h) for h in calls)
        print(f"  {name:<22} old {statistics.median(olds):6.1f} µs  new "
              f"{statistics.median(news):6.1f} µs  old/new {statistics.median(ratios):.2f}  "
              f"({per:.1f} calls per household)")
        _full(old, pack, as_of, warm, unseen, name)


def _cold(old: ModuleType, pack: Any) -> None:
    """The views of a new engine: fresh ones per pass over the fixtures' steps."""
    documents = [plain(load_yaml_file(path)) for path in sorted((ROOT / "fixtures").glob("*.yaml"))]
    calls = _recorded(Engine(pack), documents, date(2026, 7, 1))
    decimals = pack_decimals(pack.parameters)
    took: dict[str, list[float]] = {"old": [], "new": []}
    for n in range(200):
        sides = [("old", old.StepViews), ("new", StepViews)]
        for name, views in sides if n % 2 else sides[::-1]:
            took[name].append(_run(views(decimals).steps, calls) / len(calls) / 1000)
    before, after = statistics.median(took["old"]), statistics.median(took["new"])
    print(f"  {'new engine, fixtures':<22} old {before:6.1f} µs  new {after:6.1f} µs  "
          f"old/new {before / after:.2f}  (a fresh StepViews per pass, per fixture)")


def _full(old: ModuleType, pack: Any, as_of: date, warm: list[dict[str, Any]],
          unseen: list[dict[str, Any]], name: str) -> None:
    """The full evaluate of ``unseen`` on two engines warmed on ``warm``, one with the
    old module's step views; chunks of 20 alternate."""
    engine_old, engine_new = Engine(pack), Engine(pack)
    engine_old.builder._steps = old.StepViews(pack_decimals(pack.parameters))
    for document in warm:
        engine_old.evaluate(document, as_of)
        engine_new.evaluate(document, as_of)
    ratios: list[float] = []
    olds: list[float] = []
    news: list[float] = []
    gc.collect()
    for i in range(0, len(unseen), 20):
        chunk = unseen[i:i + 20]
        pair = [engine_old, engine_new] if (i // 20) % 2 else [engine_new, engine_old]
        took: dict[int, int] = {}
        for engine in pair:
            t = perf_counter_ns()
            for document in chunk:
                engine.evaluate(document, as_of)
            took[id(engine)] = perf_counter_ns() - t
        olds.append(took[id(engine_old)] / len(chunk) / 1000)
        news.append(took[id(engine_new)] / len(chunk) / 1000)
        ratios.append(took[id(engine_old)] / took[id(engine_new)])
    print(f"  {name + ', full evaluate':<22} old {statistics.median(olds):6.1f} µs  new "
          f"{statistics.median(news):6.1f} µs  old/new {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
