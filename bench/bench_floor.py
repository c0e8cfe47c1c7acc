"""What the anchor targets of issue 9 cost at the least, measured: the floors under them.

Issue 9 asks, on the anchor rule set, for a full ``Engine.evaluate`` → Decision within
15× hand-written Python, a summary within 6× and the fast core within 4×. This script
measures, in one process, what no implementation of the same Decision in CPython
without generated code can go below, and prints each floor as a ratio to the
hand-written function:

* **the Decision's own objects**: the pydantic models a full (and a summary) Decision
  of a household the engine has not seen holds that did not exist before the call
  (parts shared with earlier Decisions excluded: they were built once), each at the
  cost of the cheapest way to make one (``decision_build.construct``:
  ``object.__new__`` and the four slot sets, no validation) with the copy of its
  fields' dict;
* **the fast core's calls**: the Python function calls one fast-core evaluation
  makes (counted with ``sys.setprofile``), each at the cost of calling a closure that
  reads one key of a dict — the interpreter's price of evaluating rules held as data
  (closures over the AST) rather than as code.

It prints these beside the measured paths. A floor is a lower bound of what is
counted, not a model of the rest (fact validation, memo look-ups, lists, texts).

    .venv/bin/python bench/bench_floor.py [--anchors ../shared/bench/anchors] [--n 300]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from eligibility import Engine, load_pack
from eligibility.decision import Reason
from eligibility.decision_build import construct

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_anchors import AS_OF, facts_of, time_calls  # noqa: E402


def per_call(fn: Callable[[], Any], n: int = 20_000, rounds: int = 5) -> float:
    """Median seconds per call of ``fn`` over ``rounds`` of ``n`` calls."""
    times = []
    for _ in range(rounds):
        gc.disable()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
        gc.enable()
    return statistics.median(times)


def reachable(roots: list[Any], stop: Any = None) -> dict[int, Any]:
    """Every object reachable from ``roots`` (not through ``stop``, types or modules)."""
    seen: dict[int, Any] = {}
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if obj is stop or id(obj) in seen or isinstance(obj, type) or type(obj).__name__ in (
                "module", "function", "builtin_function_or_method", "method"):
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
    return seen


def made_models(make: Callable[[], Any]) -> int:
    """The pydantic models the result of ``make()`` holds that did not exist before
    the call: those it made (whether a memo keeps them too or not)."""
    before = {id(o) for o in gc.get_objects() if isinstance(o, BaseModel)}
    result = make()
    return sum(1 for i, o in reachable([result]).items()
               if isinstance(o, BaseModel) and i not in before)


def calls_of(fn: Callable[[], Any]) -> int:
    """Python function calls (and C calls) ``fn()`` makes."""
    count = 0

    def prof(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(prof)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = next((p / "shared" / "bench" / "anchors" for p in (ROOT.parent, ROOT.parent.parent)
                    if (p / "shared" / "bench" / "anchors").is_dir()), "")
    parser.add_argument("--anchors", default=str(default))
    parser.add_argument("--n", type=int, default=300, help="unseen households measured")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.anchors).resolve()))
    import rules_common as rc

    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    for h in rc.generate_households(2000, seed=99):
        engine.evaluate(facts_of(h), AS_OF)
        engine.evaluate(facts_of(h), AS_OF, detail="summary")
    unseen = rc.generate_households(args.n, seed=4242)
    # every path timed per call as bench_anchors.py times it (the timer's own cost
    # included alike), on households the engine has not seen
    def timed(fn: Callable[[Any], Any], items: list[Any]) -> float:
        return statistics.median(time_calls(fn, items))

    hand = timed(rc.evaluate_reference, rc.generate_households(3000, seed=5))
    fresh = rc.generate_households(3 * args.n, seed=777)
    full_now = timed(lambda h: engine.evaluate(facts_of(h), AS_OF), fresh[:args.n])
    summary_now = timed(lambda h: engine.evaluate(facts_of(h), AS_OF, detail="summary"),
                        fresh[args.n:2 * args.n])
    valid = [engine.validate(facts_of(h)) for h in fresh[2 * args.n:]]
    core_now = timed(lambda v: engine.outcomes(v, AS_OF), valid)

    # the floors
    fields = dict(construct(Reason, {f: None for f in Reason.model_fields}).__dict__)
    make = per_call(lambda: construct(Reason, fields.copy()))
    env = {"a": 1}
    closure = (lambda key: lambda e: e[key])("a")
    call = per_call(lambda: closure(env), 200_000) - per_call(lambda: None, 200_000)
    full_own = statistics.median(made_models(lambda h=h: engine.evaluate(facts_of(h), AS_OF))
                                 for h in unseen[:30])
    summary_own = statistics.median(
        made_models(lambda h=h: engine.evaluate(facts_of(h), AS_OF, detail="summary"))
        for h in unseen[30:60])
    more = [engine.validate(facts_of(h)) for h in unseen[60:90]]
    core_calls = statistics.median(calls_of(lambda v=v: engine.outcomes(v, AS_OF)) for v in more)

    def row(label: str, now: float, floor: float, target: float) -> None:
        print(f"{label:<34}{now * 1e6:>9.1f}{now / hand:>8.1f}×{floor * 1e6:>10.1f}"
              f"{floor / hand:>8.1f}×{target:>8.0f}×")

    print(f"anchor rule set; hand-written Python {hand * 1e6:.2f} µs per household; "
          f"{args.n} households the engine has not seen per path")
    print(f"one model made as the builder makes it {make * 1e6:.2f} µs; one closure call "
          f"reading a key {call * 1e9:.0f} ns")
    print(f"{'path':<34}{'now µs':>9}{'':>9}{'floor µs':>10}{'':>9}{'target':>9}")
    row(f"full Decision ({full_own:.0f} models made)", full_now, full_own * make, 15)
    row(f"summary ({summary_own:.0f} models made)", summary_now, summary_own * make, 6)
    row(f"fast core ({core_calls:.0f} calls)", core_now, core_calls * call, 4)
    print("(floor: models made × the cost of making one, or calls × the cost of one closure "
          "call; a lower bound of what it counts, before validation, look-ups and texts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
