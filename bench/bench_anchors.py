"""The engine against the anchor engines on the anchor rule set, paired in one process.

The anchor rule set (``shared/bench/anchors/rules_common.py``: 13 facts, 8 derived
criteria, 7 measures and a bostøtte amount; not real law) is written as a pack in
``bench/anchors/``. This script

1. checks that the engine agrees with the hand-written ``evaluate_reference`` on
   ``--check`` (default 10 000) generated households — every measure's status
   (eligible ⇔ True), the ``priority`` criterion and the bostøtte amount (within
   0.01 NOK) — through the full ``Engine.evaluate``, the summary level and the
   fast core, and ZEN and durable_rules too;
2. times, per call and interleaved round by round in this one process:
   hand-written Python, GoRules ZEN's best call path (``ZenEngine.evaluate`` with a
   loader returning a parsed ``ZenDecisionContent``), durable_rules (assert +
   retract on one session), our fast core (validated facts → outcomes), fact
   validation, the summary Decision, the full ``Engine.evaluate`` → Decision, and
   ``evaluate`` + JSON bytes; with ``--baseline REV`` also the engine at git
   revision REV (e.g. the commit before issue 9): its fast core (with and without
   the calculation), fact validation, summary and full evaluation;
   Each round times households no engine has seen, each engine path on a fresh
   engine warmed up on other households, so that the engine's memos of values it has
   seen (criteria, reasons, measures decided by small-domain values) help only as
   they would over a population;
3. prints median and p99 µs per call and the ratio to hand-written Python (median
   over rounds of the per-round ratio), then the six ``fixtures/`` on ``rules/no``
   (µs per evaluation the first time an engine sees the fixture, and again, and ×
   faster than the baseline on the first time) and the memory a held
   Decision takes (tracemalloc);
4. times rules/no as an engine in service meets it (``--population``): generated
   households (:mod:`eligibility.batch.generate`) with no fact missing and with each
   optional fact left out at p = 0.2, on engines warmed on 2000 others, each timed
   call a household no engine has seen; beside the baseline on the same households
   and rules, with the memory per kept Decision.

What it does not prove: the households are the anchor generator's (complete facts
only); absolute µs move by tens of percent on a shared machine, only the ratios of
one run mean anything.

    .venv/bin/python bench/bench_anchors.py [--anchors ../shared/bench/anchors]
        [--n 2000] [--rounds 5] [--check 10000] [--baseline ac51a03] [--population 500]
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from eligibility import Engine, load_pack
from eligibility.batch.frame import drop_nulls
from eligibility.batch.generate import generate
from eligibility.decision import Decision
from eligibility.pack.model import RulePack
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)
#: fresh engines per fixture and round in the rules/no table (each times one first call)
FIRST_CALLS = 5
MEASURES = ("startlan", "tilskudd_etablering", "bostotte", "kommunal_bolig",
            "midlertidig_botilbud", "tilpasning", "housing_first")


def facts_of(h: dict[str, Any]) -> dict[str, Any]:
    return {"household": dict(h)}


def row_of_decision(d: Decision) -> dict[str, Any]:
    row: dict[str, Any] = {m.id: m.status == "eligible" for m in d.measures}
    b = d.measure("bostotte")
    row["bostotte_amount"] = float(b.amount) if b.status == "eligible" and b.amount else 0.0
    row["priority"] = d.criterion("priority").value is True
    return row


def row_of_outcomes(out: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for _, cm, o in out.measures:
        row[cm.measure.id] = o.status == "eligible"
        if cm.measure.id == "bostotte":
            row["bostotte_amount"] = (float(o.amount) if o.status == "eligible" and o.amount
                                      else 0.0)
    row["priority"] = next(c.value for c in out.criteria if c.criterion.id == "priority") is True
    return row


def agree(label: str, got: list[dict[str, Any]], want: list[dict[str, Any]]) -> int:
    bad = 0
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        ok = all(bool(g[k]) == w[k] for k in (*MEASURES, "priority")) and abs(
            float(g["bostotte_amount"]) - w["bostotte_amount"]) <= 0.01
        if not ok:
            bad += 1
            if bad <= 3:
                print(f"  MISMATCH {label} #{i}: got={g} want={w}", file=sys.stderr)
    print(f"  {label:<28} {len(got) - bad}/{len(got)} agree")
    return bad


def time_calls(fn: Callable[[Any], Any], items: list[Any]) -> list[float]:
    pc = time.perf_counter
    samples = []
    ap = samples.append
    gc.disable()
    try:
        for it in items:
            t0 = pc()
            fn(it)
            ap(pc() - t0)
    finally:
        gc.enable()
    samples.sort()
    return samples


def held_kib(make: Callable[[Any], Any], items: list[Any]) -> float:
    """KiB that stay allocated per Decision kept, over ``items`` (tracemalloc); shared
    static parts built before are not counted, memo entries the new ones add are."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = [make(it) for it in items]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del held
    return (after - before) / 1024 / len(items)


def _tidy(value: Any) -> Any:
    """``value`` as a JSON body gives it: a whole decimal as an int, others without the
    generator's trailing zeros."""
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else Decimal(
            format(value.normalize(), "f"))
    return value


def population(pack: RulePack, n: int, seed: int, missing: float) -> list[dict[str, Any]]:
    """``n`` generated households (:func:`eligibility.batch.generate.generate`) as fact
    documents; each optional fact left out with probability ``missing``."""
    frame = generate(pack, n, seed=seed, missing=missing)
    groups = [c for c in frame.columns if c != "id"]
    return [_tidy(drop_nulls(row[0])) for row in frame.select(pl.struct(groups)).iter_rows()]


#: households an engine in service has seen before the population part times it
POPULATION_WARM = 2000


def bench_population(pack: RulePack, n: int, rounds: int, base: Any, base_pack: Any,
                     label: str) -> None:
    """rules/no on generated households an engine in service has not seen: one engine
    per path, warmed on :data:`POPULATION_WARM` households, then each round times ``n``
    new ones per path (a fresh draw for every path and round: no path times a household
    any engine has seen); held KiB over ``n`` more kept Decisions."""
    print(f"\nrules/no, a generated population ({label}; each engine warmed on "
          f"{POPULATION_WARM} households, then per round and path {n} it has not seen; "
          f"median of {rounds} rounds of the per-round median µs; p99 over all rounds):")
    print(f"{'missing':<9}{'now µs':>8}{'p99':>7}{'no calc':>9}{'summary':>9}{'again':>7}"
          + (f"{'baseline':>10}{'p99':>7}{'× faster':>10}" if base is not None else "")
          + f"{'held KiB':>10}{'JSON KiB':>10}")
    for missing in (0.0, 0.2):
        seed = iter(range(1000, 10_000))
        paths: dict[str, Callable[[Any], Any]] = {}
        engines: dict[str, Any] = {}
        for name in ("now", "nocalc", "summary", *(("base",) if base is not None else ())):
            eng = base.Engine(base_pack) if name == "base" else Engine(pack)
            for facts in population(pack, POPULATION_WARM, next(seed), missing):
                eng.evaluate(facts, AS_OF)
            engines[name] = eng
        paths["now"] = partial(engines["now"].evaluate, as_of=AS_OF)
        paths["nocalc"] = partial(engines["nocalc"].evaluate, as_of=AS_OF, calculation=False)
        paths["summary"] = partial(engines["summary"].evaluate, as_of=AS_OF, detail="summary")
        if base is not None:
            paths["base"] = partial(engines["base"].evaluate, as_of=AS_OF)
        medians: dict[str, list[float]] = {k: [] for k in paths}
        every: dict[str, list[float]] = {k: [] for k in paths}
        for _ in range(rounds):
            for name, fn in paths.items():
                samples = time_calls(fn, population(pack, n, next(seed), missing))
                medians[name].append(statistics.median(samples))
                every[name].extend(samples)
        seen = population(pack, n, next(seed), missing)
        for facts in seen:
            paths["now"](facts)
        again = statistics.median(time_calls(paths["now"], seen))
        kept = population(pack, n, next(seed), missing)
        kib = held_kib(paths["now"], kept)
        json_kib = statistics.median(
            len(engines["now"].evaluate_json(f, AS_OF)) for f in kept[:50]) / 1024

        us = {k: statistics.median(v) * 1e6 for k, v in medians.items()}
        p99 = {k: sorted(v)[int(len(v) * 0.99)] * 1e6 for k, v in every.items()}

        line = (f"{missing:<9.1f}{us['now']:>8.0f}{p99['now']:>7.0f}{us['nocalc']:>9.0f}"
                f"{us['summary']:>9.0f}{again * 1e6:>7.0f}")
        if base is not None:
            line += f"{us['base']:>10.0f}{p99['base']:>7.0f}{us['base'] / us['now']:>10.1f}"
        print(line + f"{kib:>10.1f}{json_kib:>10.1f}")
    print("(missing: the probability each optional fact is left out; again: the same "
          f"{n} households once more on the now engine; held KiB: per kept Decision of "
          f"{n} unseen households on the warmed engine, memo entries they add counted)")


def default_anchors() -> str:
    """``shared/bench/anchors`` beside the repository (or one folder up), or ""."""
    return str(next((p / "shared" / "bench" / "anchors" for p in (ROOT.parent, ROOT.parent.parent)
                     if (p / "shared" / "bench" / "anchors").is_dir()), ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchors", default=default_anchors(),
                        help="folder with rules_common.py, engine_zen.py, engine_durable.py "
                             "(default: shared/bench/anchors beside the repository)")
    parser.add_argument("--n", type=int, default=2000, help="calls per path per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--check", type=int, default=10_000, help="households checked")
    parser.add_argument("--baseline", default=None, help="git revision to time beside")
    parser.add_argument("--no-rules-no", action="store_true", help="skip the rules/no part")
    parser.add_argument("--population", type=int, default=500,
                        help="rules/no generated households per path and round (0: skip)")
    args = parser.parse_args()

    anchors = Path(args.anchors).resolve()
    if not (anchors / "rules_common.py").exists():
        print(f"no rules_common.py in {anchors} (give --anchors)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(anchors))
    import rules_common as rc

    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    base_engine = None
    if args.baseline:
        sys.path.insert(0, str(ROOT / "bench"))
        from baseline import load_baseline
        base = load_baseline(args.baseline)
        base_engine = base.Engine(base.load_pack(ROOT / "bench" / "anchors"))

    zen_eval: Callable[[dict[str, Any]], Any] | None = None
    try:
        import zen
        from engine_zen import build_jdm
        content = zen.ZenDecisionContent(json.dumps(build_jdm()))
        zen_engine = zen.ZenEngine({"loader": lambda key: content})

        def zen_eval(h: dict[str, Any]) -> Any:
            return zen_engine.evaluate("housing", h)["result"]
    except ImportError as exc:
        print(f"(zen-engine not installed: {exc}; pip install -e '.[bench]')")
    durable_eval: Callable[[dict[str, Any]], Any] | None = None
    try:
        from engine_durable import DurableEvaluator, define_ruleset
        durable_eval = DurableEvaluator(define_ruleset("housing_bench"), mode="retract")
    except ImportError as exc:
        print(f"(durable-rules not installed: {exc}; pip install -e '.[bench]')")

    # -- 1. agreement ---------------------------------------------------------
    households = rc.generate_households(max(args.check, args.n))
    check = households[: args.check]
    want = [rc.evaluate_reference(h) for h in check]
    print(f"agreement with evaluate_reference on {len(check)} generated households:")
    bad = agree("Engine.evaluate (full)",
                [row_of_decision(engine.evaluate(facts_of(h), AS_OF)) for h in check], want)
    bad += agree("Engine.evaluate (summary)",
                 [row_of_decision(engine.evaluate(facts_of(h), AS_OF, detail="summary"))
                  for h in check], want)
    valid = [engine.validate(facts_of(h)) for h in check]
    bad += agree("fast core (outcomes)",
                 [row_of_outcomes(engine.outcomes(v, AS_OF)) for v in valid], want)
    if zen_eval is not None:
        bad += agree("zen", [zen_eval(h) for h in check], want)
    if durable_eval is not None:
        bad += agree("durable_rules", [durable_eval(h) for h in check], want)
    if bad:
        print("engines disagree with the reference; not timing", file=sys.stderr)
        return 1

    # -- 2. timing ------------------------------------------------------------
    # Every round times households no engine has seen (a seed of its own, apart from
    # the agreement check's and the warm-up's), and every engine path gets a fresh
    # Engine, warmed up on other households: the memos of values an engine has seen
    # (criteria, reasons, whole measures) cannot turn the timed calls into look-ups
    # of the agreement check's or another path's work. Those memos still hit where a
    # round's households share values, as any population does.
    pack = engine.pack
    warm_raw = [facts_of(h) for h in rc.generate_households(200, seed=99)]

    def fresh(make: Callable[[], Any]) -> Any:
        new = make()
        for f in warm_raw:
            new.evaluate(f, AS_OF)
        return new

    def engine_paths(eng: Any, label: str = "") -> list[tuple[str, Callable[[Any], Any], str]]:
        """(label, call, input kind) of one engine; label prefixes baseline rows."""
        if label:
            core = [(f"baseline {label} fast core", lambda v: eng.outcomes(v, AS_OF), "valid"),
                    ("  baseline core, calc=False",
                     lambda v: eng.outcomes(v, AS_OF, calculation=False), "valid")]
            summary = [(f"baseline {label} summary",
                        lambda f: eng.evaluate(f, AS_OF, detail="summary"), "raw")]
            has_summary = "detail" in inspect.signature(base.Engine.evaluate).parameters
            return ((core if hasattr(base.Engine, "outcomes") else [])
                    + [(f"baseline {label} validation", lambda f: eng.validate(f), "raw")]
                    + (summary if has_summary else [])
                    + [(f"baseline {label} evaluate", lambda f: eng.evaluate(f, AS_OF), "raw")])
        return [("our fast core (valid facts)", lambda v: eng.outcomes(v, AS_OF), "valid"),
                ("  fast core, calculation=False",
                 lambda v: eng.outcomes(v, AS_OF, calculation=False), "valid"),
                ("fact validation", lambda f: eng.validate(f), "raw"),
                ("evaluate, summary", lambda f: eng.evaluate(f, AS_OF, detail="summary"),
                 "raw"),
                ("evaluate → Decision (full)", lambda f: eng.evaluate(f, AS_OF), "raw"),
                ("  evaluate, calculation=False",
                 lambda f: eng.evaluate(f, AS_OF, calculation=False), "raw"),
                ("evaluate + JSON bytes", lambda f: eng.evaluate_json(f, AS_OF), "raw"),
                ("evaluate + model_dump_json",
                 lambda f: eng.evaluate(f, AS_OF).model_dump_json(), "raw")]

    makers: list[tuple[str, Callable[[], Any]]] = [("", lambda: Engine(pack))]
    if base_engine is not None:
        anchors_pack = base.load_pack(ROOT / "bench" / "anchors")
        makers.append((args.baseline, lambda: base.Engine(anchors_pack)))
    labels = ["hand-written Python"]
    if zen_eval is not None:
        labels.append("ZEN, ZenEngine.evaluate")
    if durable_eval is not None:
        labels.append("durable_rules assert+retract")
    for label, _ in makers:
        labels += [name for name, _, _ in engine_paths(None, label)]
    medians: dict[str, list[float]] = {label: [] for label in labels}
    p99s: dict[str, list[float]] = {label: [] for label in labels}
    ratios: dict[str, list[float]] = {label: [] for label in labels}
    raw: list[dict[str, Any]] = []
    for round_no in range(args.rounds):
        items = rc.generate_households(args.n, seed=1000 + round_no)
        raw = [facts_of(h) for h in items]
        timed: list[tuple[str, Callable[[Any], Any], list[Any]]] = [
            ("hand-written Python", rc.evaluate_reference, items)]
        if zen_eval is not None:
            timed.append(("ZEN, ZenEngine.evaluate", zen_eval, items))
        if durable_eval is not None:
            timed.append(("durable_rules assert+retract", durable_eval, items))
        for label, make in makers:
            validator = make()
            validated = [validator.validate(f) for f in raw]
            for index, (name, _, kind) in enumerate(engine_paths(None, label)):
                eng = fresh(make)  # its own engine: nothing of this round seen
                call = engine_paths(eng, label)[index][1]
                timed.append((name, call, validated if kind == "valid" else raw))
        plain_med = 0.0
        for label, fn, its in timed:
            samples = time_calls(fn, its)
            med = samples[len(samples) // 2] * 1e6
            medians[label].append(med)
            p99s[label].append(samples[int(len(samples) * 0.99)] * 1e6)
            if label == "hand-written Python":
                plain_med = med
            ratios[label].append(med / plain_med)
    full = partial(engine.evaluate, as_of=AS_OF)
    print(f"\nanchor rule set, {args.n} calls per path × {args.rounds} interleaved rounds "
          "(µs per call; × = median of per-round ratios to hand-written Python):")
    print(f"{'path':<34}{'median µs':>11}{'p99 µs':>10}{'× hand-written':>16}")
    for label in labels:
        print(f"{label:<34}{statistics.median(medians[label]):>11.1f}"
              f"{statistics.median(p99s[label]):>10.1f}{statistics.median(ratios[label]):>16.1f}")

    unseen = [facts_of(h) for h in rc.generate_households(300, seed=7)]
    print(f"\nheld Decision (anchor set, full, 300 households not seen before): "
          f"{held_kib(full, unseen):.1f} KiB each; "
          f"JSON {len(engine.evaluate_json(raw[0], AS_OF)) / 1024:.1f} KiB")

    # -- 3. rules/no ----------------------------------------------------------
    if args.no_rules_no:
        return 0
    rules = ROOT / "rules" / "no"
    fixtures = ROOT / "fixtures"
    base_no = None
    base_no_pack = None
    if base_engine is not None:
        from baseline import rules_at
        # both engines on the same rules and fixtures: the older ones (a newer fixture may
        # give a fact the older schema does not have)
        rules = rules_at(args.baseline)
        fixtures = rules_at(args.baseline, "fixtures")
        base_no_pack = base.load_pack(rules)
        base_no = base.Engine(base_no_pack)
    no_pack = load_pack(rules)
    no = Engine(no_pack)
    print("\nrules/no, the six fixtures (µs per evaluate the first time an engine sees the "
          f"household: median of {args.rounds} rounds × {FIRST_CALLS} engines, each warmed "
          "on the other fixtures; again µs: the same household's next 50 calls, one engine"
          + (f"; both engines on rules/no and fixtures/ as of {args.baseline}" if base_no
             else "") + "):")
    print(f"{'fixture':<36}{'now µs':>9}{'no calc':>10}{'summary µs':>12}{'again µs':>10}"
          + (f"{'baseline µs':>13}{'× faster':>10}" if base_no else "")
          + f"{'held KiB':>10}{'again KiB':>11}{'JSON KiB':>10}")
    print("(held KiB: memory a kept Decision takes, on an engine that has seen only the "
          "other fixtures; again KiB: the same household's next Decision, once the parts it "
          "shares with the first exist)")
    speedups = []
    paths = sorted(fixtures.glob("*.yaml"))
    documents = [plain(load_yaml_text(p.read_text(encoding="utf-8"), p.name)) for p in paths]
    for path, facts in zip(paths, documents, strict=True):
        # held: a fresh engine that has seen only the other fixtures
        fresh_no = Engine(no_pack)
        for other in documents:
            if other is not facts:
                fresh_no.evaluate(other, AS_OF)
        kib = held_kib(partial(fresh_no.evaluate, as_of=AS_OF), [facts])
        again = held_kib(partial(fresh_no.evaluate, as_of=AS_OF), [facts])
        # first time: each call on its own engine that has seen only the other fixtures
        # (the memos of values seen cannot answer it); again: the same household's next
        # calls on one engine (a caseworker's what-if loop)
        def first(make: Callable[[], Any], call: Callable[[Any, Any], Any],
                  facts: dict[str, Any] = facts) -> float:
            times = []
            for _ in range(FIRST_CALLS):
                eng = make()
                for other in documents:
                    if other is not facts:
                        eng.evaluate(other, AS_OF)
                t0 = time.perf_counter()
                call(eng, facts)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        def make_now() -> Engine:
            return Engine(no_pack)

        now, nocalc, summ, old = [], [], [], []
        for _ in range(args.rounds):
            now.append(first(make_now, lambda e, f: e.evaluate(f, AS_OF)))
            nocalc.append(first(make_now, lambda e, f: e.evaluate(f, AS_OF, calculation=False)))
            summ.append(first(make_now, lambda e, f: e.evaluate(f, AS_OF, detail="summary")))
            if base_no is not None:
                old.append(first(lambda: base.Engine(base_no_pack),
                                 lambda e, f: e.evaluate(f, AS_OF)))
        repeat = statistics.median(time_calls(lambda f: no.evaluate(f, AS_OF), [facts] * 50))
        now_us = statistics.median(now) * 1e6
        line = (f"{path.stem:<36}{now_us:>9.0f}{statistics.median(nocalc) * 1e6:>10.0f}"
                f"{statistics.median(summ) * 1e6:>12.0f}{repeat * 1e6:>10.0f}")
        if base_no is not None:
            old_us = statistics.median(old) * 1e6
            speedups.append((old_us / now_us, old_us / (statistics.median(nocalc) * 1e6)))
            line += f"{old_us:>13.0f}{old_us / now_us:>10.1f}"
        line += (f"{kib:>10.1f}{again:>11.1f}"
                 f"{len(no.evaluate_json(facts, AS_OF)) / 1024:>10.1f}")
        print(line)
    if speedups:
        print(f"geometric mean speed-up over the baseline: "
              f"{statistics.geometric_mean([a for a, _ in speedups]):.1f}× with the "
              f"calculation recorded (the default), "
              f"{statistics.geometric_mean([b for _, b in speedups]):.1f}× with "
              "calculation=False (the baseline had no calculation)")
    if args.population:
        bench_population(no_pack, args.population, args.rounds,
                         base if base_no is not None else None,
                         base_no_pack if base_no is not None else None,
                         f"both engines on rules/no as of {args.baseline}" if base_no
                         is not None else "rules/no as it is now")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
