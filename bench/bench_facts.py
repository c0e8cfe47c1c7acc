"""Fact validation, today's against an older revision, paired in one process.

Times :meth:`Engine.validate` (the quick path and, for what it does not take, the
full one) on the anchor rule set (``bench/anchors``: households of the anchor
generator, each validated once per round, a fresh seed per round) and on the six
``fixtures/`` of ``rules/no``, interleaved round by round with the engine at
``--baseline REV`` (default ``main``), and prints the median µs per call of each and
the ratio. Each row first checks that both give the same ValidFacts (values, types,
order and hash).

What it does not prove: validation keeps no memo, so unseen inputs matter less here
than for the evaluation; absolute µs move by tens of percent on a shared machine, only
the ratios of one run mean anything.

    .venv/bin/python bench/bench_facts.py [--anchors ../shared/bench/anchors]
        [--n 2000] [--rounds 15] [--baseline main]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from baseline import load_baseline  # noqa: E402

from eligibility import Engine, load_pack  # noqa: E402
from eligibility.pack.yamlio import load_yaml_text, plain  # noqa: E402


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return [(k, _typed(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [_typed(v) for v in value]
    return (type(value).__name__, str(value))


def _row(label: str, rounds: list[list[Any]], today: Callable[[Any], Any],
         base: Callable[[Any], Any]) -> None:
    for docs in rounds[:1]:
        for doc in docs:
            assert _typed(tuple(today(doc))) == _typed(tuple(base(doc))), doc
    times: dict[str, list[float]] = {"today": [], "baseline": []}
    for docs in rounds:
        for name, call in (("baseline", base), ("today", today)):
            started = time.perf_counter()
            for doc in docs:
                call(doc)
            times[name].append((time.perf_counter() - started) / len(docs) * 1e6)
    now, before = statistics.median(times["today"]), statistics.median(times["baseline"])
    print(f"{label:34}{before:>12.2f}{now:>10.2f}{before / now:>10.2f}")


def main() -> None:
    default = next((p / "shared" / "bench" / "anchors" for p in (ROOT.parent, ROOT.parent.parent)
                    if (p / "shared" / "bench" / "anchors").is_dir()), "")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--anchors", default=str(default),
                        help="the folder of rules_common.py")
    parser.add_argument("--n", type=int, default=2000, help="households per round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline", default="main", help="git revision to time beside")
    args = parser.parse_args()
    sys.path.insert(0, args.anchors)
    import rules_common  # the anchor generator

    base = load_baseline(args.baseline)
    print(f"Engine.validate, µs per call (median of {args.rounds} interleaved rounds), "
          f"baseline {args.baseline}")
    print(f"{'':34}{'baseline':>12}{'today':>10}{'× faster':>10}")
    anchors = ROOT / "bench" / "anchors"
    today, older = Engine(load_pack(anchors)), base.Engine(base.load_pack(anchors))
    rounds = [[{"household": dict(h)}
               for h in rules_common.generate_households(args.n, seed=1000 + r)]
              for r in range(args.rounds)]
    _row("anchors (13 facts)", rounds, today.validate, older.validate)
    no_today, no_older = Engine(load_pack(ROOT / "rules/no")), base.Engine(
        base.load_pack(ROOT / "rules/no"))
    fixtures = [plain(load_yaml_text(p.read_text(encoding="utf-8"), p.name))
                for p in sorted((ROOT / "fixtures").glob("*.yaml"))]
    repeat = max(1, args.n // len(fixtures) // 4)
    _row("rules/no, the six fixtures", [fixtures * repeat] * args.rounds,
         no_today.validate, no_older.validate)


if __name__ == "__main__":
    main()
