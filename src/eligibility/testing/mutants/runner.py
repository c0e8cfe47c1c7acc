"""Run mutants against the pack's own tests and score how many they notice.

:func:`run_mutants` loads the pack, generates its mutants
(:mod:`eligibility.testing.mutants.operators`), optionally samples ``max_mutants``
of them (seeded, round-robin over the operators so each stays represented), and
runs each against the pack's cases and then its declared invariants (each with
``examples`` generated households and the run's seed) — only the invariants that
read something the mutant can change, and only those that hold on the unmutated
pack (the *baseline*, run first with the same budget). A mutant is *killed* when
a case fails or an invariant is violated, *survived* otherwise, *equivalent*
when the cheap check of the operators shows no household can tell it apart (not
run, reported apart), *not run* when the time budget ended first. For every
survivor a differential search looks for a household whose decision the mutant
changes and renders it as a case with the unmutated pack's decision. Mutants run
in worker processes (``workers``, spawned; each loads the pack once and
regenerates the same mutant list) or in this process when ``workers`` is 1. The
run stops at ``time_budget`` seconds; the :class:`MutationReport` is then marked
partial. The built-in invariants are not searched per mutant: no operator can
break determinism or dated validity, an evaluation error already fails every
search, and information monotonicity is searched only for mutants of
expressions that use ``known()``.
"""

from __future__ import annotations

import copy
import itertools
import multiprocessing
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from eligibility.decision import Decision
from eligibility.engine import Engine
from eligibility.errors import EligibilityError
from eligibility.expr import ast
from eligibility.pack.loader import load_pack
from eligibility.pack.model import FieldSpec, RulePack
from eligibility.testing.cases import run_cases
from eligibility.testing.invariants import (
    Invariant,
    InvariantSet,
    load_invariants,
    referenced_criteria,
    referenced_measures,
)
from eligibility.testing.mutants.operators import OPERATORS, Mutant, generate
from eligibility.testing.properties import Searcher
from eligibility.testing.render import case_yaml
from eligibility.testing.strategies import ADULT_AGE, bounds, evaluation_dates, households

DEFAULT_EXAMPLES = 30
DEFAULT_HOUSEHOLDS = 200
DEFAULT_TIME_BUDGET = 600.0
STATUSES = ("killed", "survived", "equivalent", "not_run")


@dataclass(frozen=True)
class MutantResult:
    """What happened to one mutant (plain data: it crosses process boundaries)."""

    index: int
    status: str  # one of STATUSES
    killed_by: str | None = None  # "case <name>" or "invariant <id>"
    household: str | None = None  # a YAML case that tells the mutant apart
    difference: str | None = None  # how the mutant decides that household
    seconds: float = 0.0
    error: str | None = None  # why a mutant could not be run (counted as not run)


@dataclass(frozen=True)
class Settings:
    """How a run searches (sent to every worker)."""

    pack_dir: str
    examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    distinguish: bool = True
    households: int = DEFAULT_HOUSEHOLDS  # drawn once, to tell survivors apart


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    not_run: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    @property
    def total(self) -> int:
        return self.killed + self.survived + self.equivalent + self.not_run

    @property
    def score(self) -> float | None:
        """Killed / (killed + survived), in per cent; None when nothing ran."""
        ran = self.killed + self.survived
        return 100.0 * self.killed / ran if ran else None


@dataclass
class MutationReport:
    """The outcome of a mutation run (see module docstring)."""

    pack_id: str
    generated: int
    mutants: list[Mutant]
    results: dict[int, MutantResult]
    baseline_cases: int
    baseline_failed_cases: list[str]
    baseline_invariants: list[str]
    baseline_violated: list[str]
    settings: Settings
    workers: int
    time_budget: float
    seconds: float = 0.0
    partial: bool = False

    @property
    def baseline_ok(self) -> bool:
        return not self.baseline_failed_cases and not self.baseline_violated

    def result(self, mutant: Mutant) -> MutantResult:
        return self.results.get(mutant.index, MutantResult(mutant.index, "not_run"))

    def tally(self, key: Callable[[Mutant], str] | None = None) -> dict[str, Tally]:
        out: dict[str, Tally] = {}
        for m in self.mutants:
            out.setdefault(key(m) if key else "all", Tally()).add(self.result(m).status)
        return out

    @property
    def total(self) -> Tally:
        return self.tally().get("all", Tally())

    def by_operator(self) -> dict[str, Tally]:
        found = self.tally(lambda m: m.operator)
        return {op: found[op] for op in OPERATORS if op in found}

    def by_group(self) -> dict[str, Tally]:
        return dict(sorted(self.tally(lambda m: m.group).items()))

    def survivors(self) -> list[tuple[Mutant, MutantResult]]:
        return [(m, self.result(m)) for m in self.mutants
                if self.result(m).status == "survived"]

    def equivalents(self) -> list[Mutant]:
        return [m for m in self.mutants if self.result(m).status == "equivalent"]

    def errors(self) -> list[tuple[Mutant, str]]:
        """Mutants the tooling failed to run, with the reason."""
        return [(m, r.error) for m in self.mutants
                if (r := self.result(m)).error is not None]

    def summary(self) -> str:
        """``mutation score: 81.0% (…)``, starting with PARTIAL when the run was cut short."""
        t = self.total
        score = t.score
        text = (f"mutation score: {'–' if score is None else f'{score:.1f}%'} "
                f"({t.killed} killed of {t.killed + t.survived} scored; {t.equivalent} "
                f"equivalent apart; {len(self.mutants)} of {self.generated} mutants "
                f"selected, seed {self.settings.seed}; {self.seconds:.0f}s, "
                f"{self.workers} worker{'s' if self.workers != 1 else ''})")
        if self.partial:
            text = (f"PARTIAL {text}: {t.not_run} mutant(s) not run within the "
                    f"{self.time_budget:g}s time budget")
        return text

    def text(self) -> str:
        """The report as plain text: score per operator, every survivor (with the household
        that tells it apart, where one was found), the equivalent mutants, the summary."""
        lines = ["by operator:"]
        for op, t in self.by_operator().items():
            lines.append(f"  {op}: {t.killed}/{t.killed + t.survived} killed"
                         + (f", {t.equivalent} equivalent" if t.equivalent else "")
                         + (f", {t.not_run} not run" if t.not_run else ""))
        for mutant, result in self.survivors():
            lines.append(f"SURVIVED {mutant.describe()}")
            if result.household is not None:
                lines.append(f"  the mutant decides: {result.difference}")
                lines.append("  --- paste into cases/ (check `expect` against the law) ---")
                lines.extend("  " + line for line in result.household.rstrip().splitlines())
            else:
                lines.append(f"  no household among the {self.settings.households} drawn "
                             "tells it apart")
        for mutant in self.equivalents():
            lines.append(f"equivalent: {mutant.describe()}")
        for mutant, message in self.errors():
            lines.append(f"NOT RUN {mutant.describe()}: {message}")
        lines.append(self.summary())
        return "\n".join(lines)


# -- one mutant -------------------------------------------------------------------
@dataclass
class _State:
    """A loaded pack, its invariants and its mutants, in one process."""

    settings: Settings
    pack: RulePack = field(init=False)
    engine: Engine = field(init=False)
    invariants: InvariantSet = field(init=False)
    mutants: list[Mutant] = field(init=False)

    def __post_init__(self) -> None:
        self.pack = load_pack(self.settings.pack_dir)
        self.engine = Engine(self.pack)
        self.invariants = load_invariants(self.pack)
        self.mutants = generate(self.pack)
        self._corpus: list[tuple[dict[str, Any], date]] | None = None

    def corpus(self) -> list[tuple[dict[str, Any], date]]:
        if self._corpus is None:
            self._corpus = corpus(self.pack, self.settings.households, self.settings.seed)
        return self._corpus


def _relevant(inv: Invariant, mutant: Mutant) -> bool:
    if set(referenced_measures(inv)) & mutant.measures:
        return True
    if set(referenced_criteria(inv)) & mutant.criteria:
        return True
    if mutant.parameter is not None:
        return any(isinstance(n, ast.Call) and n.func == "param" and n.args
                   and isinstance(n.args[0], ast.Name) and n.args[0].dotted == mutant.parameter
                   for e in inv.exprs.values() for n in ast.walk(e.node))
    return False


def _baseline(state: _State, inv_id: str) -> bool:
    """Whether one declared invariant (or the built-in ``information_monotonicity``) holds
    on the unmutated pack, with the run's budget."""
    s = state.settings
    invariants = {i.id: i for i in state.invariants.invariants}
    searcher = Searcher(state.engine, s.examples, s.seed, fixed_examples=True,
                        information_exempt=state.invariants.information_exempt, shrink=False)
    if inv_id not in invariants:
        return searcher.run_builtin(inv_id).passed
    return searcher.run(invariants[inv_id]).passed


def _run_mutant(state: _State, index: int, held: frozenset[str],
                deadline: float) -> MutantResult:
    started = time.perf_counter()
    mutant = state.mutants[index]
    s = state.settings

    def done(status: str, **kw: Any) -> MutantResult:
        return MutantResult(index, status, seconds=time.perf_counter() - started, **kw)

    try:
        mutated = mutant.apply(state.pack)
        engine = Engine(mutated)
    except Exception as exc:  # a mutant the engine cannot compile is noticed at once
        return done("killed", killed_by=f"compile error ({type(exc).__name__})")
    try:
        for case in run_cases(engine):
            if not case.passed:
                return done("killed", killed_by=f"case {case.case.name!r}")
    except Exception as exc:  # an engine crash on a case fails that case
        return done("killed", killed_by=f"case crash ({type(exc).__name__})")
    searcher = Searcher(engine, s.examples, s.seed, fixed_examples=True,
                        information_exempt=state.invariants.information_exempt, shrink=False)
    for inv in state.invariants.invariants:
        if inv.id not in held or not _relevant(inv, mutant):
            continue
        if time.time() > deadline:
            return done("not_run")
        if not searcher.run(inv).passed:
            return done("killed", killed_by=f"invariant {inv.id}")
    if mutant.uses_known and "information_monotonicity" in held:
        if time.time() > deadline:
            return done("not_run")
        if not searcher.run_builtin("information_monotonicity").passed:
            return done("killed", killed_by="built-in information_monotonicity")
    household = difference = None
    if s.distinguish and time.time() < deadline:
        found = distinguish(state.engine, engine, mutant, state.corpus())
        if found is not None:
            household, difference = found
    return done("survived", household=household, difference=difference)


# -- telling a survivor apart -----------------------------------------------------
def _outcomes(decision: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in decision.measures:
        out[f"measures.{m.id}"] = (m.status, m.amount)
    for c in decision.criteria:
        out[f"criteria.{c.id}"] = c.value if c.known else None
    return out


def _differences(original: Decision, mutated: Decision | str) -> list[str]:
    if isinstance(mutated, str):
        return [mutated]
    a, b = _outcomes(original), _outcomes(mutated)
    return [k for k in a.keys() | b.keys() if a.get(k) != b.get(k)]


def corpus(pack: RulePack, size: int, seed_value: int) -> list[tuple[dict[str, Any], date]]:
    """``size`` complete households with evaluation dates, drawn once (seeded) and reused
    for every survivor: evaluating a stored household costs far less than drawing one."""
    drawn: list[tuple[dict[str, Any], date]] = []

    @settings(max_examples=size, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
              phases=(Phase.generate,), print_blob=False)
    @seed(seed_value)
    @given(st.tuples(households(pack, complete=True), evaluation_dates(pack)))
    def draw(example: tuple[dict[str, Any], date]) -> None:
        drawn.append(copy.deepcopy(example))

    draw()
    return drawn


def distinguish(original: Engine, mutated: Engine, mutant: Mutant,
                households_: list[tuple[dict[str, Any], date]]) -> tuple[str, str] | None:
    """A household the two engines decide differently, simplified, as a YAML case with
    the original's decision, and a line saying how the mutant decides it; None if none of
    ``households_`` (each also at the mutant's own dates, if any) tells them apart."""

    def evaluate(engine: Engine, facts: dict[str, Any], as_of: date) -> Decision | str:
        try:
            return engine.evaluate(facts, as_of=as_of, lang="en")
        except EligibilityError as exc:
            return f"the mutant cannot evaluate it: {exc}"

    def _differ(facts: dict[str, Any], as_of: date) -> bool:
        first = evaluate(original, facts, as_of)
        return not isinstance(first, str) and bool(
            _differences(first, evaluate(mutated, facts, as_of)))

    trials = itertools.chain(households_, ((f, d) for f, _ in households_
                                           for d in mutant.dates))
    hit = next(((f, d) for f, d in trials if _differ(f, d)), None)
    if hit is None:
        return None
    facts, as_of = hit
    facts = simplify(original.pack, facts, lambda f: _differ(f, as_of))
    before = original.evaluate(facts, as_of=as_of, lang="en")
    after = evaluate(mutated, facts, as_of)
    keys = sorted(_differences(before, after))
    measures = [k.split(".", 1)[1] for k in keys if k.startswith("measures.")]
    criteria = [k.split(".", 1)[1] for k in keys if k.startswith("criteria.")]
    if isinstance(after, str):
        how = after
        measures = sorted(mutant.measures) or [m.id for m in before.measures]
    else:
        how = "; ".join(_describe_key(after, k) for k in keys)
    note = (f"Tells apart the mutant {mutant.where} ({mutant.operator}: {mutant.change}),\n"
            f"which decides: {how}.\n"
            "`expect` is the decision of the unmutated pack: check it against the law.")
    text = case_yaml(f"mutant {mutant.where} {mutant.operator}", facts, as_of, before,
                     measures, criteria, note,
                     expect_comment="the UNMUTATED pack's decision: check it against the law")
    return text, how


def _simpler(spec: FieldSpec, value: Any, floor: Any = None) -> list[Any]:
    """Simpler values for one fact, simplest first (within the field's range, and not
    below ``floor``)."""
    if spec.kind == "bool":
        return [False] if value is True else []
    if spec.kind == "enum":
        first = (spec.values or (value,))[0]
        return [first] if value != first else []
    if spec.kind in ("int", "money", "number"):
        low, _ = bounds(spec)
        low = max(low, floor) if floor is not None else low
        low = Decimal(low) if spec.kind != "int" else int(low)
        if value <= low:
            return []
        out: list[Any] = []
        current = value
        while current != low and len(out) < 12:
            half = low + (current - low) // 2
            out.append(half)
            current = half
        if value != low:
            out.insert(0, low)
        return out
    return []


def simplify(pack: RulePack, facts: dict[str, Any],
             keeps: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """A greedy shrink of a household that ``keeps`` a property: drop members after the
    first, then move each fact to a simpler value while the property still holds.
    Cheaper than hypothesis's shrinker because it only evaluates rules."""
    best = copy.deepcopy(facts)
    schema = pack.schema
    for group in schema.groups.values():
        if group.is_list:
            members = best.get(group.name) or []
            i = len(members) - 1
            while i >= 1:
                trial = copy.deepcopy(best)
                del trial[group.name][i]
                if keeps(trial):
                    best = trial
                i -= 1
    for _ in range(2):
        changed = False
        for group in schema.groups.values():
            rows = best.get(group.name)
            targets = (list(range(len(rows))) if group.is_list and isinstance(rows, list)
                       else [None] if isinstance(rows, dict) else [])
            for row in targets:
                for name, spec in group.fields.items():
                    holder = best[group.name][row] if row is not None else best[group.name]
                    if name not in holder:
                        continue
                    floor = None
                    if row is not None and name == "age" and (
                            row == 0 or holder.get("role") == "partner"):
                        floor = ADULT_AGE  # the applicant and partners stay adults
                    for candidate in _simpler(spec, holder[name], floor):
                        trial = copy.deepcopy(best)
                        place = trial[group.name][row] if row is not None else trial[group.name]
                        place[name] = candidate
                        if keeps(trial):
                            best, changed = trial, True
                            break
        if not changed:
            break
    return _in_schema_order(pack, best)


def _in_schema_order(pack: RulePack, facts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group in pack.schema.groups.values():
        if group.name not in facts:
            continue
        value = facts[group.name]
        order = list(group.fields)

        def ordered(row: dict[str, Any], order: list[str] = order) -> dict[str, Any]:
            return {k: row[k] for k in sorted(row, key=lambda k: order.index(k)
                                               if k in order else len(order))}

        out[group.name] = [ordered(r) for r in value] if isinstance(value, list) \
            else ordered(value)
    return out


def _describe_key(decision: Decision, key: str) -> str:
    kind, _, ident = key.partition(".")
    if kind == "measures":
        m = next((m for m in decision.measures if m.id == ident), None)
        if m is None:
            return f"{ident} not in force"
        amount = f" {m.amount}" if m.amount is not None else ""
        return f"{ident} {m.status}{amount}"
    c = next((c for c in decision.criteria if c.id == ident), None)
    value = c.value if c and c.known else "unknown"
    return f"criteria.{ident} = {str(value).lower() if isinstance(value, bool) else value}"


# -- worker processes -------------------------------------------------------------
_WORKER: dict[str, _State] = {}  # one entry per worker process, set by its initializer


def _init_worker(settings_: Settings) -> None:
    _WORKER["state"] = _State(settings_)


def _worker_task(kind: str, key: Any, held: frozenset[str], deadline: float) -> Any:
    state = _WORKER["state"]
    if kind == "baseline":
        return _baseline(state, key)
    return _guarded(state, key, held, deadline)


def _guarded(state: _State, index: int, held: frozenset[str], deadline: float) -> MutantResult:
    """One mutant; an unexpected failure of the tooling makes it *not run*, never a crash."""
    try:
        return _run_mutant(state, index, held, deadline)
    except Exception as exc:
        return MutantResult(index, "not_run", error=f"{type(exc).__name__}: {exc}")


def sample(mutants: list[Mutant], max_mutants: int | None, seed_value: int) -> list[Mutant]:
    """At most ``max_mutants`` mutants: seeded shuffle per operator, then round-robin."""
    if max_mutants is None or max_mutants >= len(mutants):
        return list(mutants)
    rng = random.Random(seed_value)
    pools: dict[str, list[Mutant]] = {}
    for m in mutants:
        pools.setdefault(m.operator, []).append(m)
    for pool in pools.values():
        rng.shuffle(pool)
    chosen: list[Mutant] = []
    while len(chosen) < max_mutants:
        for op in OPERATORS:
            left = pools.get(op)
            if left and len(chosen) < max_mutants:
                chosen.append(left.pop())
    return sorted(chosen, key=lambda m: m.index)


def run_mutants(pack_dir: str | Path, *, max_mutants: int | None = None, seed: int = 0,
                examples: int = DEFAULT_EXAMPLES, workers: int | None = None,
                time_budget: float = DEFAULT_TIME_BUDGET, distinguish: bool = True,
                on_result: Callable[[Mutant, MutantResult], None] | None = None,
                ) -> MutationReport:
    """Mutation-test the pack at ``pack_dir`` (see module docstring).

    Raises :class:`~eligibility.errors.PackError` when the pack or its
    invariants.yaml does not load. When the unmutated pack fails a case or an
    invariant, no mutant is run and the report says so (``baseline_ok`` false).
    """
    started = time.perf_counter()
    deadline = time.time() + time_budget
    cfg = Settings(str(pack_dir), examples, seed, distinguish)
    state = _State(cfg)
    chosen = sample(state.mutants, max_mutants, seed)
    n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    cases = run_cases(state.engine)
    report = MutationReport(
        state.pack.meta.id, len(state.mutants), chosen, {}, len(cases),
        [c.case.name for c in cases if not c.passed], [], [], cfg, n_workers, time_budget)
    for m in chosen:
        if m.equivalent:
            report.results[m.index] = MutantResult(m.index, "equivalent")
    if report.baseline_failed_cases:
        report.seconds = time.perf_counter() - started
        return report
    invariant_ids = [i.id for i in state.invariants.invariants]
    if any(m.uses_known for m in chosen if not m.equivalent):
        invariant_ids.append("information_monotonicity")
    todo = [m.index for m in chosen if not m.equivalent]

    def record(result: MutantResult) -> None:
        report.results[result.index] = result
        if on_result is not None:
            on_result(state.mutants[result.index], result)

    if n_workers == 1:
        baseline = {i: _baseline(state, i) for i in invariant_ids}
        held = frozenset(i for i, ok in baseline.items() if ok)
        report.baseline_invariants = sorted(held)
        report.baseline_violated = [i for i, ok in baseline.items() if not ok]
        if report.baseline_violated:
            report.seconds = time.perf_counter() - started
            return report
        for index in todo:
            if time.time() > deadline:
                report.partial = True
                break
            record(_guarded(state, index, held, deadline))
    else:
        _run_pool(report, cfg, invariant_ids, todo, n_workers, deadline, record)
    report.partial = report.partial or any(
        report.result(m).status == "not_run" for m in chosen)
    report.seconds = time.perf_counter() - started
    return report


def _run_pool(report: MutationReport, cfg: Settings, invariant_ids: list[str],
              todo: list[int], n_workers: int, deadline: float,
              record: Callable[[MutantResult], None]) -> None:
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(n_workers, mp_context=context, initializer=_init_worker,
                               initargs=(cfg,))
    try:
        futures = {pool.submit(_worker_task, "baseline", i, frozenset(), deadline): i
                   for i in invariant_ids}
        baseline = {futures[f]: bool(f.result()) for f in _completed(futures, deadline)}
        held = frozenset(i for i, ok in baseline.items() if ok)
        report.baseline_invariants = sorted(held)
        report.baseline_violated = [i for i, ok in baseline.items() if not ok]
        if report.baseline_violated or len(baseline) < len(invariant_ids):
            report.partial = len(baseline) < len(invariant_ids)
            return
        pending = {pool.submit(_worker_task, "mutant", i, held, deadline): i for i in todo}
        for f in _completed(pending, deadline):
            try:
                record(f.result())
            except Exception as exc:  # a worker process died
                record(MutantResult(pending[f], "not_run",
                                    error=f"worker failed: {type(exc).__name__}: {exc}"))
        if any(not f.done() for f in pending):
            report.partial = True
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _completed(futures: Iterable[Future[Any]], deadline: float) -> Iterable[Future[Any]]:
    """Futures as they complete, until all are done or the deadline passes."""
    left = set(futures)
    while left:
        remaining = deadline - time.time()
        if remaining <= 0:
            return
        done, left = wait(left, timeout=remaining, return_when=FIRST_COMPLETED)
        yield from done


def score_counts(report: MutationReport) -> Counter[str]:
    """How many mutants ended in each status."""
    return Counter(report.result(m).status for m in report.mutants)
