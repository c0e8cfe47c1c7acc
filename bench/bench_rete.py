"""The rete backend (durable_rules) measured against hand-written Python and the reference.

Part 1, the mini pack of ``tests/packs/mini`` (the households and the hand-written function
of ``bench_engine.py``): every household's statuses and bostøtte amount are checked against
the hand-written function for both backends, then the time per household of the
hand-written function, the reference backend and the rete backend is printed, with each
one's ratio to hand-written Python (outcomes only, and the full Decision).

Part 2, incremental re-evaluation (mini pack and ``rules/no``): for each household a live
rete session is opened, then ONE fact changes; the session's ``update`` (recompute only the
facts that depend on the changed fact, replace those that changed, let the network
re-derive what follows) is timed against a full rete evaluation and a reference
evaluation of the changed household. The updated outcomes are checked against the
reference first. Changing a member's fact touches everything that counts members, so it
is shown separately from a fact of one group.

Usage: ``python bench/bench_rete.py [--n 300] [--seed 7] [--repeat 3]``. All figures come
from one process; the machine is shared and noisy, so read the ratios.
"""

from __future__ import annotations

import argparse
import copy
import gc
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import AS_OF, ROOT, as_comparable, generate, hand_written

from eligibility import Engine, load_pack
from eligibility.compile.outcomes import Outcomes
from eligibility.compile.rete.backend import ReteBackend
from eligibility.pack.yamlio import load_yaml_text, plain


def per_item(fn: Callable[[Any], Any], items: list[Any], repeat: int) -> float:
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


def row(name: str, seconds: float, bar: float, extra: str = "") -> None:
    print(f"  {name:<44}{seconds * 1e6:>12.1f}{seconds / bar:>14.1f}  {extra}")


def part1(n: int, seed: int, repeat: int) -> None:
    pack = load_pack(ROOT / "tests" / "packs" / "mini")
    ref, rete = Engine(pack), Engine(pack, backend="rete")
    households = generate(n, seed)
    for facts in households:
        expected = hand_written(facts)
        assert as_comparable(ref.evaluate(facts, as_of=AS_OF)) == expected, facts
        assert as_comparable(rete.evaluate(facts, as_of=AS_OF)) == expected, facts
    valid = [ref.validate(f) for f in households]
    hand = per_item(hand_written, households, repeat)
    print(f"mini pack: {n} households (seed {seed}), median of {repeat} runs; both backends "
          "agree with the hand-written function on every household")
    print(f"  {'path':<44}{'µs/household':>12}{'× hand-written':>14}")
    row("hand-written Python", hand, hand)
    row("reference outcomes", per_item(lambda v: ref.outcomes(v, AS_OF), valid, repeat), hand)
    row("rete outcomes", per_item(lambda v: rete.outcomes(v, AS_OF), valid, repeat), hand)
    row("reference evaluate (Decision)",
        per_item(lambda f: ref.evaluate(f, as_of=AS_OF), households, repeat), hand)
    row("rete evaluate (Decision)",
        per_item(lambda f: rete.evaluate(f, as_of=AS_OF), households, repeat), hand)


def key(o: Outcomes) -> Any:
    return (o.status, o.amount, o.missing, o.discretionary, o.priority,
            [(r.creq.req.id, r.outcome, r.missing) for r in o.reasons])


def part2(label: str, engine: Engine, pairs: list[tuple[Any, Any]], when: date,
          repeat: int) -> None:
    backend = ReteBackend(engine.compiled)
    valid = [(engine.validate(a), engine.validate(b)) for a, b in pairs]
    for before, after in valid:  # correctness first
        expected = {cm.measure.id: key(o) for _, cm, o in engine.outcomes(after, when).measures}
        with backend.open(before, when) as session:
            got = {mid: key(o) for mid, o in session.update(after).items()}
        assert got == expected, (label, after)
    sessions = [backend.open(before, when) for before, _ in valid]
    total = sessions[0].asserted
    try:
        def update(i: int) -> None:
            sessions[i].update(valid[i][1] if update.flip[i] else valid[i][0])  # type: ignore[attr-defined]
            update.flip[i] = not update.flip[i]  # type: ignore[attr-defined]

        update.flip = [True] * len(valid)  # type: ignore[attr-defined]
        index = list(range(len(valid)))
        inc = per_item(update, index, repeat * 2)  # both directions, the same number of times
        reasserted = statistics.mean(s.reasserted for s in sessions)
    finally:
        for s in sessions:
            s.close()
    full = per_item(lambda p: backend.outcomes(p[1], when), valid, repeat)
    ref = per_item(lambda p: engine.outcomes(p[1], when), valid, repeat)
    print(f"  {label}: {len(valid)} households; the update re-derives from "
          f"{reasserted:.1f} of {total} asserted facts")
    print(f"    {'path':<42}{'µs/household':>12}{'× reference':>12}")
    for name, seconds in (("reference, full evaluation", ref), ("rete, full evaluation", full),
                          ("rete, incremental update of one fact", inc)):
        print(f"    {name:<42}{seconds * 1e6:>12.1f}{seconds / ref:>12.2f}")
    print(f"    incremental / full rete: {inc / full:.2f}")


def fixtures_households() -> list[dict[str, Any]]:
    out = []
    for path in sorted((ROOT / "fixtures").glob("*.yaml")):
        out.append(plain(load_yaml_text(path.read_text(encoding="utf-8"), str(path))))
    return out


def changed(facts: dict[str, Any], group: str, field: str, value: Any) -> dict[str, Any]:
    after = copy.deepcopy(facts)
    after.setdefault(group, {})[field] = value
    return after


def member_changed(facts: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    after = copy.deepcopy(facts)
    after["members"][0][field] = value
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    part1(args.n, args.seed, args.repeat)

    print("\nincremental re-evaluation (one fact changes):")
    mini = Engine(load_pack(ROOT / "tests" / "packs" / "mini"))
    households = generate(args.n, args.seed)
    part2("mini, housing.cost_month +500", mini,
          [(h, changed(h, "housing", "cost_month", h["housing"]["cost_month"] + 500))
           for h in households], AS_OF, args.repeat)
    part2("mini, situation.homeless flipped", mini,
          [(h, changed(h, "situation", "homeless", not h["situation"]["homeless"]))
           for h in households], AS_OF, args.repeat)
    part2("mini, members[0].income_month +1000", mini,
          [(h, member_changed(h, "income_month", h["members"][0]["income_month"] + 1000))
           for h in households], AS_OF, args.repeat)

    no = Engine(load_pack(ROOT / "rules" / "no"))
    when = date(2026, 1, 15)
    base = fixtures_households()
    reps = max(1, args.n // (10 * len(base)))
    homes = [copy.deepcopy(h) for h in base for _ in range(reps)]
    part2("rules/no fixtures, housing.cost_month +500", no,
          [(h, changed(h, "housing", "cost_month",
                       Decimal(h.get("housing", {}).get("cost_month", 8000)) + 500))
           for h in homes], when, args.repeat)
    part2("rules/no fixtures, situation.eviction_requested flipped", no,
          [(h, changed(h, "situation", "eviction_requested",
                       not h.get("situation", {}).get("eviction_requested", False)))
           for h in homes], when, args.repeat)
    part2("rules/no fixtures, members[0].income_month +1000", no,
          [(h, member_changed(h, "income_month",
                              Decimal(h["members"][0].get("income_month", 0)) + 1000))
           for h in homes], when, args.repeat)


if __name__ == "__main__":
    main()
