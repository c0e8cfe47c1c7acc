"""Engine speed against a hand-written Python function of the same rules.

Generates N households (seeded) for the mini pack in ``tests/packs/mini``, checks
that the engine and the hand-written function agree on every household (status
of each measure and the bostøtte amount), then times both in the same process
and prints the time per household and the ratio. Three engine paths are timed:

- ``core``: validated facts → every measure's status, amount and reasons
  (``Engine.evaluate_measure`` for each measure), no Decision object;
- ``validate+core``: the same, starting from raw facts (schema validation);
- ``evaluate``: the public ``Engine.evaluate`` building the full pydantic Decision
  (reasons with values and messages, criteria, missing facts, provenance).

Usage: ``python bench/bench_engine.py [--n 20000] [--seed 7] [--repeat 3]``.
The hand-written function is the bar (issue 2 asks for ≤ 10× on this script).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from eligibility import Engine, load_pack

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2023, 6, 1)
DEKNING = Decimal("0.737")
TAK = {1: 60000, 2: 80000, 3: 90000}
EGENANDEL = 20000
SATS = Decimal("0.2")
MINSTE = 50
LANGVARIG = 5


def generate(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        members = [{"age": rng.randint(16, 80), "income_month": rng.randrange(0, 40000, 100),
                    "disability": rng.random() < 0.1}]
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            members.append({"age": rng.randint(0, 60), "disability": rng.random() < 0.05,
                            "income_month": rng.randrange(0, 20000, 100)})
        out.append({
            "household": {"kommunegruppe": rng.randint(1, 4), "registered": rng.random() < 0.9},
            "members": members,
            "housing": {"tenure": rng.choice(["leie", "eie", "ingen"]),
                        "cost_month": rng.randrange(0, 20000, 50)},
            "economy": {"bank_loan_refused": rng.random() < 0.5,
                        "years_problem": rng.randint(0, 10), "savings_used": rng.random() < 0.5},
            "situation": {"homeless": rng.random() < 0.1, "forced_sale": rng.random() < 0.1},
        })
    return out


def hand_written(f: dict[str, Any]) -> dict[str, Any]:
    """The mini pack's rules written directly in Python (complete facts only)."""
    members = f["members"]
    size = len(members)
    children = any(m["age"] < 18 for m in members)
    income_year = sum(m["income_month"] for m in members if m["age"] >= 18) * 12
    tak = TAK[min(size, 3)]
    egenandel = EGENANDEL + SATS * income_year
    cost_year = f["housing"]["cost_month"] * 12
    amount = (DEKNING * max(0, min(cost_year, tak) - egenandel) / 12).quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    adult = any(m["age"] >= 18 for m in members) or children
    bostotte = adult and f["household"]["registered"] and amount >= MINSTE
    e, s = f["economy"], f["situation"]
    long_term = (e["years_problem"] >= LANGVARIG and e["savings_used"]) or children \
        or s["forced_sale"]
    startlan = "undetermined" if e["bank_loan_refused"] and long_term else "not_eligible"
    return {
        "bostotte": ("eligible" if bostotte else "not_eligible", amount if bostotte else None),
        "startlan": startlan,
        "midlertidig_botilbud": "eligible" if s["homeless"] else "not_eligible",
    }


def engine_core(engine: Engine) -> Callable[[Any], dict[str, Any]]:
    def run(valid: Any) -> dict[str, Any]:
        ctx = engine.context(valid, AS_OF)
        out = {}
        for cm in engine.measures:
            o = engine.evaluate_measure(cm, ctx)
            out[cm.measure.id] = o
        return out

    return run


def as_comparable(decision: Any) -> dict[str, Any]:
    b = decision.measure("bostotte")
    return {"bostotte": (b.status, b.amount), "startlan": decision.measure("startlan").status,
            "midlertidig_botilbud": decision.measure("midlertidig_botilbud").status}


def time_per_item(fn: Callable[[Any], Any], items: list[Any], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        for item in items:
            fn(item)
        runs.append((time.perf_counter() - start) / len(items))
        gc.enable()
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = Engine(load_pack(ROOT / "tests" / "packs" / "mini"))
    households = generate(args.n, args.seed)
    for facts in households:
        expected = hand_written(facts)
        got = as_comparable(engine.evaluate(facts, as_of=AS_OF))
        assert got == expected, (facts, got, expected)
    valid = [engine.validate(f) for f in households]
    core = engine_core(engine)
    hand = time_per_item(hand_written, households, args.repeat)
    results = {
        "hand-written": hand,
        "engine core": time_per_item(core, valid, args.repeat),
        "engine validate+core": time_per_item(lambda f: core(engine.validate(f)), households,
                                              args.repeat),
        "engine evaluate (Decision)": time_per_item(
            lambda f: engine.evaluate(f, as_of=AS_OF), households, args.repeat),
    }
    print(f"{args.n} households, seed {args.seed}, median of {args.repeat} runs; "
          f"all {args.n} decisions agree with the hand-written function")
    print(f"{'path':<30}{'µs/household':>14}{'× hand-written':>16}")
    for name, seconds in results.items():
        print(f"{name:<30}{seconds * 1e6:>14.1f}{seconds / hand:>16.1f}")


if __name__ == "__main__":
    main()
