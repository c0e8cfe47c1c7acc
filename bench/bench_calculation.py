"""The cost of recording every amount's calculation in the full Decision.

Evaluates the bundled pack's fixtures (``fixtures/*.yaml``) and cases
(``rules/no/cases``) with ``Engine.evaluate(..., calculation=True)`` (the full
Decision, with ``calculation`` per measure with an amount) and with
``calculation=False``, interleaved in one process, and prints the best time per
household of each and their ratio. It also times the recorder alone
(``compile.calculation.record``) and the Decision view (``decision_steps``).

What it covers: the households of the bundled pack at their own dates, nb. What it does
not: other packs, batch paths (which do not record), the terminal or Markdown views.

Usage: ``python bench/bench_calculation.py [--rounds 7] [--loops 20]``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from eligibility import Engine, load_pack
from eligibility.compile.calculation import record
from eligibility.compile.runtime import Ctx
from eligibility.explain.calculation import decision_steps
from eligibility.pack.yamlio import load_yaml_file, plain

ROOT = Path(__file__).resolve().parents[1]


def households(engine: Engine) -> list[tuple[Any, date]]:
    out: list[tuple[Any, date]] = [(c.facts, c.as_of) for c in engine.pack.cases]
    for path in sorted((ROOT / "fixtures").glob("*.yaml")):
        out.append((plain(load_yaml_file(path)), date(2026, 7, 1)))
    return out


def best(fn: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--loops", type=int, default=20)
    args = parser.parse_args()
    engine = Engine(load_pack(ROOT / "rules" / "no"))
    cases = households(engine)
    valid = [(engine.validate(f), d) for f, d in cases]
    n = len(valid) * args.loops

    def run(calculation: bool) -> Callable[[], None]:
        def go() -> None:
            for _ in range(args.loops):
                for facts, when in valid:
                    engine.evaluate(facts, as_of=when, calculation=calculation)
        return go

    # the recorder and the Decision view alone, on contexts evaluated once
    contexts = []
    for facts, when in valid:
        params, _ = engine.parameters_at(when)
        for _, cm, reqs in engine.compiled.in_force_at(when).measures:
            if cm.calculation is None:
                continue
            ctx = Ctx(facts.flat, facts.members, when, params)
            from eligibility.compile.reference import evaluate_measure
            out = evaluate_measure(cm, ctx, reqs, calculation=False)
            contexts.append((cm.calculation, ctx, out.amount))

    def recorder() -> None:
        for _ in range(args.loops):
            for plan, ctx, amount in contexts:
                record(plan, ctx, amount)

    recorded = [record(plan, ctx, amount) for plan, ctx, amount in contexts]

    def view() -> None:
        for _ in range(args.loops):
            for steps in recorded:
                decision_steps(steps, "nb")

    run(True)()
    # interleaved rounds, best of each: the machine's load changes less within a round
    timings: dict[str, list[float]] = {"full": [], "without": [], "record": [], "view": []}
    for _ in range(args.rounds):
        for name, fn in (("full", run(True)), ("without", run(False)),
                         ("record", recorder), ("view", view)):
            timings[name].append(best(fn, 1))
    full, without, rec, vw = (min(timings[k]) for k in ("full", "without", "record", "view"))
    steps = sum(len(s) for s in recorded)
    print(f"households: {len(valid)} ({n} evaluations per round, best of {args.rounds}); "
          f"measures with an amount recorded per pass: {len(contexts)}, steps: {steps}")
    print(f"evaluate, full Decision with calculation: {full / n * 1e3:8.3f} ms/household")
    print(f"evaluate, without calculation:            {without / n * 1e3:8.3f} ms/household")
    print(f"  of which recording (record):            {rec / n * 1e3:8.3f} ms/household")
    print(f"  of which the Decision view:             {vw / n * 1e3:8.3f} ms/household")
    print(f"ratio full / without: {full / without:.2f}x")


if __name__ == "__main__":
    main()
