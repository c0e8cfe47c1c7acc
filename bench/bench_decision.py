"""Where a full ``rules/no`` evaluation spends its time: validation, core, recorder, builder, JSON.

For each fixture (``fixtures/*.yaml``, evaluated on 2025-06-01 as ``bench_anchors.py``
does) it times, in one process and as the best of ``--rounds`` rounds of ``--loops``
calls each: the whole ``Engine.evaluate``; ``Engine.validate``; the fast core without
the calculation (``FastPack.evaluate_household(..., calculation=False)``); the recorder
(the same with the calculation, minus that); ``DecisionBuilder.build`` (with the
calculation views); the calculation views alone (``StepViews.steps``); and
``decision_bytes``. It also prints how many reasons, calculation steps and criteria a
Decision holds. The parts are timed apart, so they need not add up to the whole, and
on a shared machine only one run's proportions mean anything.

Usage: ``python bench/bench_decision.py [--rounds 7] [--loops 200]``.
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
from eligibility.decision_build import decision_bytes
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)


def best(fn: Callable[[], Any], rounds: int, loops: int) -> float:
    """The best mean µs per call of ``fn`` over ``rounds`` rounds of ``loops`` calls."""
    out = float("inf")
    gc.disable()
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(loops):
                fn()
            out = min(out, (time.perf_counter() - t0) / loops * 1e6)
    finally:
        gc.enable()
    return out


def split(engine: Engine, facts: Any, rounds: int, loops: int) -> list[float]:
    """µs of: the whole evaluate, validate, core, recorder, build, calculation views, JSON."""
    builder, fast = engine.builder, engine.fast
    valid = engine.validate(facts, AS_OF)
    outcomes = fast.evaluate_household(valid, AS_OF, True, True)
    calcs = [out.calculation for _, _, out in outcomes.measures if out.calculation]
    decision = engine.evaluate(facts, AS_OF)
    core = best(lambda: fast.evaluate_household(valid, AS_OF, True, False), rounds, loops)
    return [
        best(lambda: engine.evaluate(facts, AS_OF), rounds, loops),
        best(lambda: engine.validate(facts, AS_OF), rounds, loops),
        core,
        best(lambda: fast.evaluate_household(valid, AS_OF, True, True), rounds, loops) - core,
        best(lambda: builder.build(outcomes, "nb"), rounds, loops),
        best(lambda: [builder._steps.steps(c, "nb") for c in calcs], rounds, loops),
        best(lambda: decision_bytes(decision), rounds, loops),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--loops", type=int, default=200)
    args = parser.parse_args()
    engine = Engine(load_pack(ROOT / "rules" / "no"))
    print(f"{'fixture':<34}{'full':>7}{'valid':>7}{'core':>7}{'record':>8}{'build':>7}"
          f"{'steps':>7}{'JSON':>7}   reasons steps criteria")
    for path in sorted((ROOT / "fixtures").glob("*.yaml")):
        facts = plain(load_yaml_text(path.read_text(encoding="utf-8"), path.name))
        full, validate, core, rec, build, steps, json = split(engine, facts, args.rounds,
                                                              args.loops)
        decision = engine.evaluate(facts, AS_OF)
        reasons = sum(len(m.reasons) for m in decision.measures)
        n_steps = sum(len(m.calculation or ()) for m in decision.measures)
        print(f"{path.stem:<34}{full:>7.0f}{validate:>7.0f}{core:>7.0f}{rec:>8.0f}"
              f"{build:>7.0f}{steps:>7.0f}{json:>7.0f}"
              f"   {reasons:>7} {n_steps:>5} {len(decision.criteria):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
