"""Search generated households for violations of a pack's invariants.

Every invariant — declared in ``invariants.yaml`` (see
:mod:`eligibility.testing.invariants`) or built in for every pack
(:data:`BUILTINS`: every valid household evaluates; the same facts give
byte-identical decisions; giving a missing fact never changes a determined
outcome; nothing applies outside its dates) — becomes one hypothesis search
with a fixed seed and no example database, so a run is reproducible. A
violation is shrunk by hypothesis and reported as a :class:`Violation`: the
smallest household(s) found, each as a ready-to-paste YAML case, plus the trace
of the rules involved. Evaluation errors are violations too, never crashes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from eligibility.compile.closures import Fn, NoValue, Resolver, compile_expr
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.decision import Decision
from eligibility.decision_build import Detail
from eligibility.engine import Engine
from eligibility.errors import EligibilityError
from eligibility.pack.model import RulePack
from eligibility.testing.coverage import Coverage
from eligibility.testing.invariants import (
    Invariant,
    output_names,
    referenced_criteria,
    referenced_measures,
)
from eligibility.testing.render import case_yaml, trace
from eligibility.testing.strategies import (
    evaluation_dates,
    field_values,
    households,
    max_facts,
    member_strategy,
    raw_values,
)

BUILTINS: Mapping[str, str] = {
    "evaluates": "every valid household evaluates without an error",
    "determinism": "the same facts give byte-identical decisions",
    "information_monotonicity": "giving a missing fact never turns a determined outcome "
                                "into another determined outcome",
    "dated_validity": "no measure, requirement, criterion or parameter version applies "
                      "outside its dates",
}

Facts = dict[str, Any]


@dataclass
class Household:
    """One evaluated household of a counterexample."""

    label: str
    facts: Facts
    as_of: date
    decision: Decision | None


class Violation(Exception):
    """An invariant that does not hold, with the (shrunk) households that show it."""

    def __init__(self, message: str, households: list[Household],
                 measures: list[str] | None = None, criteria: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.households = households
        self.measures = measures or []
        self.criteria = criteria or []

    def report(self, invariant_id: str) -> str:
        """The counterexample as YAML cases and traces (plain text)."""
        parts = [self.message]
        for h in self.households:
            note = f"Counterexample to {invariant_id} ({h.label}):\n{self.message}"
            parts.append(f"--- {h.label}: paste into cases/ ---")
            parts.append(case_yaml(f"{invariant_id}: {h.label}", h.facts, h.as_of, h.decision,
                                   self.measures, self.criteria, note).rstrip())
            if h.decision is not None and (self.measures or self.criteria):
                parts.append(f"--- {h.label}: trace ---")
                parts.append(trace(h.decision, self.measures, self.criteria))
        return "\n".join(parts)


@dataclass
class PropertyResult:
    """The outcome of one invariant's search."""

    id: str
    title: str
    builtin: bool
    examples: int = 0
    checked: int = 0
    seconds: float = 0.0
    violation: Violation | None = None

    @property
    def passed(self) -> bool:
        return self.violation is None


@dataclass
class Searcher:
    """Runs invariant searches against one engine (see module docstring)."""

    engine: Engine
    examples: int = 100
    seed: int = 0
    coverage: Coverage | None = None
    fixed_examples: bool = False  # True: `examples` overrides each invariant's own count
    information_exempt: frozenset[str] = frozenset()
    shrink: bool = True  # False: report the first violation found, unshrunk (faster)
    _fns: dict[int, Fn] = field(default_factory=dict)
    _fresh: Engine | None = None
    _ctx: tuple[Decision, Facts, Ctx] | None = None  # the last household's context

    def __post_init__(self) -> None:
        pack = self.engine.pack
        self.pack: RulePack = pack
        self._facts = frozenset(f.path for f in pack.schema.all_fields() if not f.in_list) \
            | frozenset(output_names(pack))
        self._members = frozenset(f.name for f in pack.schema.all_fields() if f.in_list)

    # -- evaluation ----------------------------------------------------------
    def evaluate(self, label: str, facts: Facts, as_of: date,
                 record: bool = True, detail: Detail = "full") -> Decision:
        """Evaluate one household. ``detail="summary"`` where the check reads only
        statuses, amounts and criteria (the full Decision when coverage records it)."""
        if record and self.coverage is not None:
            detail = "full"  # coverage counts the reasons
        try:
            # without the amounts' calculation steps: the invariants read statuses, amounts
            # and reasons, and the search runs thousands of households
            # (tests/compile/test_calculation_properties.py searches the recorder itself)
            decision = self.engine.evaluate(facts, as_of=as_of, lang="en", calculation=False,
                                            detail=detail)
        except EligibilityError as exc:
            raise Violation(f"{label}: could not evaluate: {exc}",
                            [Household(label, facts, as_of, None)]) from None
        except Exception as exc:  # an engine bug: still a shrunk counterexample
            raise Violation(f"{label}: the engine crashed: {type(exc).__name__}: {exc}",
                            [Household(label, facts, as_of, None)]) from None
        if record and self.coverage is not None:
            self.coverage.record(decision)
        return decision

    def reported(self, label: str, facts: Facts, as_of: date, decision: Decision | None,
                 ) -> Household:
        """A household of a counterexample, with its full Decision (reasons for the trace)."""
        if decision is not None and any(not m.reasons for m in decision.measures):
            decision = self.evaluate(label, facts, as_of, record=False)
        return Household(label, facts, as_of, decision)

    def value(self, inv: Invariant, key: str, facts: Facts, as_of: date,
              decision: Decision) -> Any:
        """The value of one of the invariant's expressions for an evaluated household."""
        expr = inv.exprs[key]
        fn = self._fns.get(id(expr.node))
        if fn is None:
            fn = compile_expr(expr.node, Resolver(self._facts, self._members, {},
                                                  where=f"invariant {inv.id}"))
            self._fns[id(expr.node)] = fn
        last = self._ctx
        if last is not None and last[0] is decision and last[1] is facts:
            ctx = last[2]  # the expressions of one household share its context
        else:
            valid = self.engine.validate(facts)
            params, _ = self.engine.parameters_at(as_of)
            ctx = Ctx({**valid.flat, **outputs(decision)}, valid.members, as_of, params)
            self._ctx = (decision, facts, ctx)
        try:
            return fn(ctx)
        except EligibilityError as exc:
            raise Violation(f"invariant {inv.id} `{key}` could not be computed: {exc}",
                            [self.reported("household", facts, as_of, decision)]) from None

    def matches(self, inv: Invariant, facts: Facts, as_of: date, decision: Decision) -> bool:
        return "when" not in inv.exprs or self.value(inv, "when", facts, as_of, decision) is True

    # -- the search ------------------------------------------------------------
    def _search(self, strategy: st.SearchStrategy[Any], check: Callable[[Any], bool],
                examples: int) -> tuple[int, int, Violation | None]:
        counts = [0, 0]

        @settings(max_examples=examples, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                  verbosity=Verbosity.quiet,
                  phases=(Phase.generate, Phase.shrink) if self.shrink else (Phase.generate,),
                  print_blob=False)
        @seed(self.seed)
        @given(strategy)
        def search(example: Any) -> None:
            counts[0] += 1
            if check(example):
                counts[1] += 1

        try:
            search()
        except Violation as violation:
            return counts[0], counts[1], violation
        return counts[0], counts[1], None

    def run(self, inv: Invariant) -> PropertyResult:
        """Search for a violation of one declared invariant."""
        examples = self.examples if self.fixed_examples else inv.examples or self.examples
        start = time.perf_counter()
        strategy, check = self._declared(inv)
        n, checked, violation = self._search(strategy, check, examples)
        return PropertyResult(inv.id, inv.title.en, False, n, checked,
                              time.perf_counter() - start, violation)

    def run_builtin(self, name: str) -> PropertyResult:
        """Search for a violation of one built-in invariant (a key of :data:`BUILTINS`)."""
        start = time.perf_counter()
        strategy, check = getattr(self, f"_builtin_{name}")()
        n, checked, violation = self._search(strategy, check, self.examples)
        return PropertyResult(name, BUILTINS[name], True, n, checked,
                              time.perf_counter() - start, violation)

    # -- declared invariants -----------------------------------------------------
    def _dates(self, inv: Invariant) -> st.SearchStrategy[date]:
        return evaluation_dates(self.pack, inv.as_of[0], inv.as_of[1])

    def _declared(self, inv: Invariant) -> tuple[st.SearchStrategy[Any], Callable[[Any], bool]]:
        measures, criteria = referenced_measures(inv), referenced_criteria(inv)
        if inv.kind == "monotone":
            return self._monotone(inv, measures, criteria)
        strategy = st.tuples(households(self.pack, inv.complete, given=inv.given),
                             self._dates(inv))

        def check(example: tuple[Facts, date]) -> bool:
            facts, as_of = example
            d = self.evaluate("household", facts, as_of, detail="summary")
            if not self.matches(inv, facts, as_of, d):
                return False

            def val(key: str) -> Any:
                return self.value(inv, key, facts, as_of, d)

            problem = None
            if inv.kind == "implies":
                if val("if") is True and val("then") is False:
                    problem = "`if` holds but `then` does not"
            elif inv.kind == "excludes":
                keys = sorted(k for k in inv.exprs if k.startswith("conditions."))
                if all(val(k) is True for k in keys):
                    problem = "all conditions hold together"
            elif inv.kind == "bounds":
                out = val("output")
                for key in ("min", "max"):
                    if key in inv.exprs and out is not UNKNOWN:
                        bound = val(key)
                        if bound is not UNKNOWN and (out < bound if key == "min"
                                                     else out > bound):
                            problem = (f"output {inv.exprs['output'].text} = {out} is "
                                       f"{'below' if key == 'min' else 'above'} {key} "
                                       f"{inv.exprs[key].text} = {bound}")
            elif val("check") is False:
                problem = "`check` is false"
            if problem:
                raise Violation(f"invariant {inv.id} violated: {problem}",
                                [self.reported("household", facts, as_of, d)], measures,
                                criteria)
            return True

        return strategy, check

    def _monotone(self, inv: Invariant, measures: list[str], criteria: list[str]
                  ) -> tuple[st.SearchStrategy[Any], Callable[[Any], bool]]:
        pack = self.pack
        base = households(pack, inv.complete, given=inv.given)
        if inv.input is not None:
            spec = inv.input
            low, high = (False, True) if spec.kind == "bool" else (None, None)
            # the raw values, as the households draw theirs: hypothesis' mutator copies a
            # drawn value onto another of the same label, and among the household's many
            # values it seldom makes the pair equal (an equal pair checks nothing)
            raw, convert = raw_values(spec, low, high)
            pair = st.tuples(raw, raw) if convert is None else st.tuples(raw, raw).map(
                lambda ab: (convert(ab[0]), convert(ab[1])))
            change: st.SearchStrategy[Any] = st.tuples(st.integers(0, 5), pair)
        else:
            group = next(g for g in pack.schema.groups.values() if g.is_list)
            overrides: dict[str, Any] = {}
            for name, (how, *vals) in (inv.add_member or {}).items():
                fspec = group.fields[name]
                overrides[name] = st.just(vals[0]) if how == "value" \
                    else field_values(fspec, vals[0], vals[1])
            change = member_strategy(group, inv.complete, overrides=overrides)
        strategy = st.tuples(base, self._dates(inv), change)

        def check(example: tuple[Facts, date, Any]) -> bool:
            facts, as_of, delta = example
            before, after = _monotone_pair(pack, inv, facts, delta)
            if before is None or after is None:
                return False
            d0 = self.evaluate("before", before, as_of, detail="summary")
            d1 = self.evaluate("after", after, as_of, record=False, detail="summary")
            if not (self.matches(inv, before, as_of, d0) and self.matches(inv, after, as_of, d1)):
                return False
            v0 = self.value(inv, "output", before, as_of, d0)
            v1 = self.value(inv, "output", after, as_of, d1)
            if v0 is UNKNOWN or v1 is UNKNOWN:
                return False
            if (inv.never == "rises" and v1 > v0) or (inv.never == "falls" and v1 < v0):
                what = f"`{inv.input.path}` rises" if inv.input else "a member is added"
                raise Violation(
                    f"invariant {inv.id} violated: when {what}, "
                    f"{inv.exprs['output'].text} {inv.never[:-1]}s from {v0} to {v1}",
                    [self.reported("before", before, as_of, d0),
                     self.reported("after", after, as_of, d1)], measures, criteria)
            return True

        return strategy, check

    # -- built-in invariants -----------------------------------------------------
    def _scenarios(self, complete: bool = False) -> st.SearchStrategy[tuple[Facts, date]]:
        return st.tuples(households(self.pack, complete), evaluation_dates(self.pack))

    def _builtin_evaluates(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], bool]]:
        def check(example: tuple[Facts, date]) -> bool:
            facts, as_of = example
            self.evaluate("household", facts, as_of)
            return True

        return self._scenarios(), check

    def _builtin_determinism(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], bool]]:
        if self._fresh is None:
            self._fresh = Engine(self.pack)
        fresh = self._fresh

        def check(example: tuple[Facts, date]) -> bool:
            facts, as_of = example
            first = self.evaluate("household", facts, as_of).to_json()
            again = self.evaluate("household", facts, as_of, record=False).to_json()
            try:
                other = fresh.evaluate(_reversed(facts), as_of=as_of, lang="en",
                                       calculation=False).to_json()
            except EligibilityError as exc:
                raise Violation(f"reordered facts could not be evaluated: {exc}",
                                [Household("household", facts, as_of, None)]) from None
            for label, text in (("a second evaluation", again),
                                ("a fresh engine with the keys in reverse order", other)):
                if text != first:
                    raise Violation(f"{label} gave a different decision:\n"
                                    + _first_difference(first, text),
                                    [Household("household", facts, as_of, None)])
            return True

        return self._scenarios(), check

    def _builtin_information_monotonicity(
            self) -> tuple[st.SearchStrategy[Any], Callable[[Any], bool]]:
        # one bit per fact a generated household can have (at most 200; past that the
        # bits repeat): set for about one fact in eight, shrinking towards unset
        bit = st.sampled_from((False,) * 7 + (True,))
        size = min(200, max_facts(self.pack))
        strategy = st.tuples(households(self.pack, True), evaluation_dates(self.pack),
                             st.lists(bit, min_size=size, max_size=size))

        def check(example: tuple[Facts, date, list[bool]]) -> bool:
            facts, as_of, mask = example
            partial, dropped = _drop(facts, mask)
            if not dropped:
                return False
            dp = self.evaluate("with facts missing", partial, as_of, detail="summary")
            dc = self.evaluate("complete", facts, as_of, record=False, detail="summary")
            full = {m.id: m for m in dc.measures}
            problems = []
            exempt = self.information_exempt
            for m in dp.measures:
                if f"measures.{m.id}" in exempt:
                    continue
                cm = full[m.id]
                if m.status in ("eligible", "not_eligible") and cm.status != m.status:
                    problems.append(f"{m.id}: {m.status} without {', '.join(dropped)}, "
                                    f"{cm.status} with them")
                elif m.status == "eligible" and m.amount is not None and cm.amount != m.amount:
                    problems.append(f"{m.id}: amount {m.amount} without "
                                    f"{', '.join(dropped)}, {cm.amount} with them")
            crit = {c.id: c for c in dc.criteria}
            for c in dp.criteria:
                if c.known and crit[c.id].value != c.value and f"criteria.{c.id}" not in exempt:
                    problems.append(f"criteria.{c.id}: {c.value} without "
                                    f"{', '.join(dropped)}, {crit[c.id].value} with them")
            if problems:
                ids = [p.split(":")[0] for p in problems]
                raise Violation(
                    "giving missing facts changed a determined outcome:\n  "
                    + "\n  ".join(problems),
                    [self.reported("with facts missing", partial, as_of, dp),
                     self.reported("complete", facts, as_of, dc)],
                    [i for i in ids if not i.startswith("criteria.")],
                    [i.removeprefix("criteria.") for i in ids if i.startswith("criteria.")])
            return True

        return strategy, check

    def _builtin_dated_validity(self) -> tuple[st.SearchStrategy[Any], Callable[[Any], bool]]:
        pack = self.pack

        def check(example: tuple[Facts, date]) -> bool:
            facts, as_of = example
            d = self.evaluate("household", facts, as_of)
            problems = []
            present = {m.id: m for m in d.measures}
            for m in pack.measures:
                if m.in_force(as_of) != (m.id in present):
                    problems.append(f"measure {m.id} ({m.valid_from} to {m.valid_to}) is "
                                    f"{'missing' if m.in_force(as_of) else 'present'}")
                    continue
                if m.id not in present:
                    continue
                shown = {r.requirement for r in present[m.id].reasons}
                for r in m.requirements:
                    if r.in_force(as_of) != (r.id in shown):
                        problems.append(f"requirement {m.id}.{r.id} ({r.valid_from} to "
                                        f"{r.valid_to}) is "
                                        f"{'missing' if r.in_force(as_of) else 'applied'}")
            listed = {c.id for c in d.criteria}
            for c in pack.criteria:
                in_force = (c.valid_from is None or c.valid_from <= as_of) and (
                    c.valid_to is None or as_of <= c.valid_to)
                if in_force != (c.id in listed):
                    problems.append(f"criterion {c.id} ({c.valid_from} to {c.valid_to}) is "
                                    f"{'missing' if in_force else 'present'}")
            params, _ = self.engine.parameters_at(as_of)
            for name, p in pack.parameters.items():
                expected: Any = None
                for v in p.versions:  # independent of Parameter.version_at
                    if v.valid_from <= as_of:
                        expected = v.value
                got = params.get(name)
                got = None if isinstance(got, NoValue) else got
                if got is not expected and got != expected:
                    problems.append(f"parameter {name}: {got!r} applies on {as_of}, "
                                    f"the version in force is {expected!r}")
            if problems:
                raise Violation("something applies outside its dates:\n  "
                                + "\n  ".join(problems),
                                [Household("household", facts, as_of, d)])
            return True

        return self._scenarios(), check


def run_all(engine: Engine, invariants: tuple[Invariant, ...], examples: int, seed: int = 0,
            coverage: Coverage | None = None, fixed_examples: bool = False,
            on_result: Callable[[PropertyResult], None] | None = None,
            information_exempt: frozenset[str] = frozenset()) -> list[PropertyResult]:
    """Run every declared invariant, then every built-in one."""
    searcher = Searcher(engine, examples, seed, coverage, fixed_examples,
                        information_exempt)
    results = []
    for inv in invariants:
        results.append(searcher.run(inv))
        if on_result:
            on_result(results[-1])
    for name in BUILTINS:
        results.append(searcher.run_builtin(name))
        if on_result:
            on_result(results[-1])
    return results


def outputs(decision: Decision) -> dict[str, Any]:
    """The decision's outputs under the names invariant expressions use.

    A measure that is ``not_eligible`` has amount 0 (nothing is granted); an
    ``undetermined`` measure's amount and ``eligible`` are unknown unless computed.
    """
    out: dict[str, Any] = {}
    for m in decision.measures:
        out[f"measures.{m.id}.status"] = m.status
        if m.status != "undetermined":
            out[f"measures.{m.id}.eligible"] = m.status == "eligible"
        if m.amount is not None:
            out[f"measures.{m.id}.amount"] = m.amount
        elif m.status == "not_eligible":
            out[f"measures.{m.id}.amount"] = Decimal(0)
    for c in decision.criteria:
        if c.known and c.value is not None:
            out[f"criteria.{c.id}"] = c.value
    return out


def _monotone_pair(pack: RulePack, inv: Invariant, facts: Facts,
                   delta: Any) -> tuple[Facts | None, Facts | None]:
    """The household before and after the input rises (or a member is added)."""
    before, after = _copy(facts), _copy(facts)
    if inv.input is None:
        group = next(g for g in pack.schema.groups.values() if g.is_list)
        members = after.setdefault(group.name, [])
        if len(members) >= (group.max_items or 100):
            return None, None
        members.append(delta)
        return before, after
    index, (a, b) = delta
    if a == b:
        return None, None
    low, high = min(a, b), max(a, b)
    spec = inv.input
    if spec.in_list:
        members = before.get(spec.group) or []
        if not members:
            return None, None
        i = index % len(members)
        before[spec.group][i][spec.name] = low
        after[spec.group][i][spec.name] = high
    else:
        before.setdefault(spec.group, {})[spec.name] = low
        after.setdefault(spec.group, {})[spec.name] = high
    return before, after


def _copy(value: Any) -> Any:
    """A copy of a facts document (dicts, lists and immutable values; cheaper than deepcopy)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _drop(facts: Facts, mask: list[bool]) -> tuple[Facts, list[str]]:
    """Remove the facts whose mask bit is set; return the partial facts and what went."""
    partial: Facts = {}
    dropped: list[str] = []
    i = 0
    for group, value in facts.items():
        if isinstance(value, list):
            members = []
            for n, member in enumerate(value):
                kept = {}
                for name, v in member.items():
                    if mask[i % len(mask)]:
                        dropped.append(f"{group}[{n}].{name}")
                    else:
                        kept[name] = v
                    i += 1
                members.append(kept)
            partial[group] = members
        else:
            kept = {}
            for name, v in value.items():
                if mask[i % len(mask)]:
                    dropped.append(f"{group}.{name}")
                else:
                    kept[name] = v
                i += 1
            partial[group] = kept
    return partial, dropped


def _reversed(facts: Facts) -> Facts:
    """The same facts with every mapping's keys in reverse order (lists keep their order)."""
    def rev(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: rev(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [rev(v) for v in value]
        return value

    return dict(rev(facts))


def _first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False)):
        if x != y:
            return f"  line {i + 1}: {x.strip()}\n  versus:  {y.strip()}"
    return "  (one decision is longer)"
