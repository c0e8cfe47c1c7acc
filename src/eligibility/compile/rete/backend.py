"""Evaluate households with the rete network: facts in, the reference's Outcomes out.

A :class:`ReteBackend` is built once per engine: it compiles the pack's network
(:mod:`.network`) and registers it as one uniquely named durable_rules ruleset. For each
evaluation it computes in Python what durable_rules cannot (comparison operands, boolean
leaves, ``let`` values, amounts — with the reference closures, so arithmetic stays exact
Decimal), asserts them as facts into one session with a fixed id, lets forward chaining
derive criteria, requirement outcomes and measure statuses, reads them back as the
:class:`~eligibility.compile.outcomes.HouseholdOutcomes` every backend returns, and deletes
the session. :class:`ReteSession` keeps a
session open instead: :meth:`ReteSession.update` recomputes only the facts that depend on
the changed household facts, replaces those that changed, and lets the network re-derive
what follows from them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eligibility.compile.calculation import record
from eligibility.compile.outcomes import (
    CriterionOutcome,
    HouseholdOutcomes,
    Outcomes,
    ReasonOutcome,
    json_value,
)
from eligibility.compile.pack import CompiledMeasure, CompiledPack, CompiledRequirement
from eligibility.compile.reference import round_amount
from eligibility.compile.rete import require_durable
from eligibility.compile.rete.network import Atom, F, Leaf, Network, T, U, compile_network
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.errors import EvaluationError
from eligibility.facts import ValidFacts

if TYPE_CHECKING:
    from eligibility.compile.rete.host import ReteHost, SessionState

_SAFE = 2**53
_sessions = itertools.count()


def _exact_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Two comparable values as JSON values durable_rules compares exactly."""
    if isinstance(a, bool) or isinstance(b, bool):
        return int(a), int(b)
    if isinstance(a, str) or isinstance(b, str):
        return a, b
    if isinstance(a, date):
        return a.toordinal(), b.toordinal()
    da, db = Decimal(a), Decimal(b)
    exp = min(da.as_tuple().exponent, db.as_tuple().exponent, 0)
    assert isinstance(exp, int)
    ia, ib = int(da.scaleb(-exp)), int(db.scaleb(-exp))
    if da.scaleb(-exp) != ia or db.scaleb(-exp) != ib or abs(ia) >= _SAFE or abs(ib) >= _SAFE:
        diff = da - db
        return (diff > 0) - (diff < 0), 0
    return ia, ib


def _choice(value: Any) -> Any:
    """A value tested against the literal choices of ``in`` (text or whole numbers)."""
    if isinstance(value, bool):
        return f"#bool:{value}"
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal):
        d = Decimal(value)
        if d == d.to_integral_value() and abs(d) < _SAFE:
            return int(d)
        return f"#num:{d}"
    return f"#other:{value}"


def _truth(value: Any) -> int:
    return U if value is UNKNOWN else (T if value is True else F)


@dataclass
class _MeasureRun:
    cm: CompiledMeasure
    amount: Any
    amount_missing: tuple[str, ...]
    lets: dict[str, tuple[Any, tuple[str, ...]]]
    in_force: tuple[CompiledRequirement, ...]


class ReteBackend:
    """The pack compiled to a durable_rules ruleset, evaluating into Outcomes."""

    def __init__(self, compiled: CompiledPack) -> None:
        require_durable()
        from eligibility.compile.rete.host import host

        self.compiled = compiled
        pack = compiled.pack
        self.network: Network = compile_network(
            pack, compiled.criteria_fns, {cm.measure.id: cm.lets for cm in compiled.measures})
        self.host: ReteHost = host()
        safe_id = "".join(ch if ch.isalnum() else "_" for ch in pack.meta.id)
        self.ruleset = self.host.register(f"eligibility_{safe_id}", self.network)
        self._nets = {m.id: m for m in self.network.measures}
        self._criteria_nodes = dict(self.network.criteria_nodes)

    # -- facts from a household ---------------------------------------------
    def _atom_fact(self, atom: Atom, ctx: Ctx) -> dict[str, Any]:
        missing = ctx.missing
        mark = len(missing)
        try:
            a = atom.left(ctx)
            b = atom.right(ctx) if atom.right is not None else None
        finally:
            seen = "\n".join(missing[mark:])
            del missing[mark:]
        if a is UNKNOWN or b is UNKNOWN:
            return {"t": "a" + atom.id, "k": 0, "n": seen}
        if atom.right is None:
            return {"t": "a" + atom.id, "k": 1, "l": _choice(a), "n": seen}
        left, right = _exact_pair(a, b)
        return {"t": "a" + atom.id, "k": 1, "l": left, "r": right, "n": seen}

    @staticmethod
    def _leaf_fact(leaf: Leaf, ctx: Ctx) -> dict[str, Any]:
        if leaf.fn is None:
            return {"t": leaf.id, "v": U, "n": ""}
        missing = ctx.missing
        mark = len(missing)
        try:
            value = leaf.fn(ctx)
        finally:
            seen = "\n".join(missing[mark:])
            del missing[mark:]
        return {"t": leaf.id, "v": _truth(value), "n": seen}

    def _measure_facts(self, cm: CompiledMeasure, ctx: Ctx,
                       in_force: tuple[CompiledRequirement, ...],
                       only: frozenset[str] | None = None,
                       previous: _MeasureRun | None = None
                       ) -> tuple[_MeasureRun, list[dict[str, Any]]]:
        """The lets, amount and atom/leaf facts of one measure (``only``: just those that
        depend on these facts; ``previous``: the run whose amount stands if it does not)."""
        net = self._nets[cm.measure.id]
        ctx.lets = {}
        amount: Any = None
        amount_missing: tuple[str, ...] = ()
        keep = previous if only is not None and not net.amount_deps & only else None
        if keep is not None and only is not None \
                and not any(a.deps & only for a in net.atoms) \
                and not any(leaf.deps & only for leaf in net.leaves):
            return keep, []
        try:
            if keep is not None:
                amount, amount_missing = keep.amount, keep.amount_missing
            elif cm.amount is not None:
                mark = len(ctx.missing)
                amount = round_amount(cm.amount(ctx), cm.measure.amount.rounding)  # type: ignore[union-attr]
                amount_missing = tuple(ctx.missing[mark:])
                del ctx.missing[mark:]
            ctx.amount = (amount, amount_missing)
            facts = [self._atom_fact(a, ctx) for a in net.atoms
                     if only is None or a.deps & only]
            facts += [self._leaf_fact(leaf, ctx) for leaf in net.leaves
                      if only is None or leaf.deps & only]
        except ArithmeticError as exc:
            raise EvaluationError(
                f"arithmetic error ({type(exc).__name__}); check the size of the "
                "amounts in the facts", f"measure {cm.measure.id}") from None
        if only is None:
            for creq, rnet in zip(cm.requirements, net.requirements, strict=True):
                if creq in in_force:
                    if rnet.on:
                        facts.append({"t": rnet.on})
                else:
                    facts.append({"t": rnet.outcome, "o": "skip", "w": -1, "n": "", "v": U})
        return _MeasureRun(cm, amount, amount_missing, ctx.lets, in_force), facts

    def _all_facts(self, ctx: Ctx, when: date, only: frozenset[str] | None = None,
                   previous: dict[str, _MeasureRun] | None = None
                   ) -> tuple[list[_MeasureRun], list[dict[str, Any]]]:
        facts = [self._atom_fact(a, ctx) for a in self.network.criteria_atoms
                 if only is None or a.deps & only]
        facts += [self._leaf_fact(leaf, ctx) for leaf in self.network.criteria_leaves
                  if only is None or leaf.deps & only]
        runs = []
        for _index, cm, in_force in self.compiled.in_force_at(when).measures:
            run, more = self._measure_facts(cm, ctx, in_force, only,
                                            (previous or {}).get(cm.measure.id))
            runs.append(run)
            facts.extend(more)
        return runs, facts

    # -- outcomes from the session ----------------------------------------------
    def _outcomes(self, run: _MeasureRun, state: SessionState, ctx: Ctx | None,
                  calculation: bool = False) -> Outcomes:
        """Read one measure's Outcomes back from the session (``ctx``: observe values;
        ``calculation``: record the amount's steps, in Python as the reference does)."""
        cm = run.cm
        net = self._nets[cm.measure.id]
        reasons = []
        need: list[str] = []
        assess: list[str] = []
        for creq, rnet in zip(cm.requirements, net.requirements, strict=True):
            got = state.facts.get(rnet.outcome)
            if got is None:
                raise RuntimeError(f"rete: no outcome derived for {rnet.outcome}")
            fact = got[0]
            outcome = fact["o"]
            if outcome == "skip":
                continue
            seen = tuple(fact["n"].split("\n")) if fact["n"] else ()
            exc = creq.req.exceptions[fact["w"]] if fact["w"] >= 0 else None
            value = {T: True, F: False}.get(fact["v"], UNKNOWN)
            need.extend(seen)
            if outcome == "discretionary":
                assess.append(creq.req.id)
            values = None
            if ctx is not None:
                ctx.lets, ctx.amount = run.lets, (run.amount, run.amount_missing)
                mark = len(ctx.missing)
                values = {label: json_value(fn(ctx)) for label, fn in creq.observed}
                del ctx.missing[mark:]
            reasons.append(ReasonOutcome(creq, outcome, exc, seen, value, values))
        status = state.statuses.get("s." + cm.measure.id, "eligible" if not reasons else None)
        if status is None:
            raise RuntimeError(f"rete: no status derived for measure {cm.measure.id}")
        priority = None
        for (rank, _, title, _fn), node in zip(cm.priority, net.priority, strict=True):
            got = state.facts.get(node)
            if got is not None and got[0]["v"] == T:
                priority = (rank, title)
                break
        undetermined = status == "undetermined"
        steps = None
        if calculation and cm.calculation and ctx is not None:
            ctx.lets, ctx.amount = run.lets, (run.amount, run.amount_missing)
            mark = len(ctx.missing)
            steps = record(cm.calculation, ctx, run.amount)
            del ctx.missing[mark:]
        return Outcomes(status, run.amount, tuple(reasons),  # type: ignore[arg-type]
                        tuple(dict.fromkeys(need)) if undetermined else (),
                        tuple(assess) if undetermined else (), priority, steps)

    # -- evaluation ---------------------------------------------------------------
    def context(self, facts: ValidFacts, as_of: date) -> Ctx:
        params, _ = self.compiled.parameters_at(as_of)
        return Ctx(facts.flat, facts.members, as_of, params)

    def outcomes(self, facts: ValidFacts, as_of: date,
                 calculation: bool = True) -> HouseholdOutcomes:
        """One household's outcomes at ``as_of``: one session, deleted afterwards
        (``calculation``: record every amount's steps)."""
        from eligibility.compile.rete.host import LOCK

        _, unconfirmed = self.compiled.parameters_at(as_of)
        ctx = self.context(facts, as_of)
        runs, asserted = self._all_facts(ctx, as_of)
        with LOCK, self.host.session(self.ruleset, "eval") as state:
            for fact in asserted:
                self.host.put(self.ruleset, state, fact)
            return self._household(runs, state, ctx, facts, as_of, unconfirmed, calculation)

    def _household(self, runs: list[_MeasureRun], state: SessionState, ctx: Ctx,
                   facts: ValidFacts, as_of: date, unconfirmed: frozenset[str],
                   calculation: bool) -> HouseholdOutcomes:
        measures = tuple((run.cm.index, run.cm, self._outcomes(run, state, ctx, calculation))
                         for run in runs)
        criteria = []
        cached = self.compiled.criterion_cached
        for c in self.compiled.in_force_at(as_of).criteria:
            node = self._criteria_nodes.get(c.id)
            got = state.facts.get(node) if node is not None else None
            if got is not None:
                fact = got[0]
                value = {T: True, F: False}.get(fact["v"], UNKNOWN)
                missing = tuple(dict.fromkeys(fact["n"].split("\n"))) \
                    if value is UNKNOWN and fact["n"] else ()
            else:  # a number (Python's), or a criterion no rule needed
                mark = len(ctx.missing)
                value = cached[c.id](ctx)
                missing = tuple(dict.fromkeys(ctx.missing[mark:])) if value is UNKNOWN else ()
                del ctx.missing[mark:]
            criteria.append(CriterionOutcome(c, value, missing))
        return HouseholdOutcomes(as_of, facts.sha256, unconfirmed, measures, tuple(criteria))

    def open(self, facts: ValidFacts, as_of: date) -> ReteSession:
        """A live session for incremental re-evaluation (close it, or use ``with``)."""
        return ReteSession(self, facts, as_of)


def _changed(old: ValidFacts, new: ValidFacts) -> frozenset[str]:
    paths = {k for k in old.flat.keys() | new.flat.keys()
             if old.flat.get(k, UNKNOWN) != new.flat.get(k, UNKNOWN)}
    if old.members != new.members:
        paths.add("members")
    return frozenset(paths)


class ReteSession:
    """One household kept in working memory; :meth:`update` re-derives only what changed."""

    def __init__(self, backend: ReteBackend, facts: ValidFacts, as_of: date) -> None:
        from eligibility.compile.rete.host import LOCK

        self.backend = backend
        self.as_of = as_of
        self.sid = f"live{next(_sessions)}"
        self.valid = facts
        ctx = backend.context(facts, as_of)
        runs, asserted = backend._all_facts(ctx, as_of)
        self.runs = {run.cm.measure.id: run for run in runs}
        with LOCK:
            self.state = backend.host.open(self.sid)
            try:
                for fact in asserted:
                    backend.host.put(backend.ruleset, self.state, fact)
            except BaseException:
                self.close()
                raise
        self.asserted = len(asserted)
        self.reasserted = 0

    def outcomes(self) -> dict[str, Outcomes]:
        from eligibility.compile.rete.host import LOCK

        with LOCK:
            return {mid: self.backend._outcomes(run, self.state, None)
                    for mid, run in self.runs.items()}

    def update(self, valid: ValidFacts) -> dict[str, Outcomes]:
        """Replace the household's facts; recompute and replace only the dependent facts."""
        from eligibility.compile.rete.host import LOCK

        changed = _changed(self.valid, valid)
        self.valid = valid
        ctx = self.backend.context(valid, self.as_of)
        runs, fresh = self.backend._all_facts(ctx, self.as_of, only=changed,
                                              previous=self.runs)
        self.runs = {run.cm.measure.id: run for run in runs}  # amounts are Python's
        self.reasserted = len(fresh)
        with LOCK:
            for fact in fresh:
                self.backend.host.put(self.backend.ruleset, self.state, fact)
        return self.outcomes()

    def close(self) -> None:
        self.backend.host.close(self.backend.ruleset, self.state)

    def __enter__(self) -> ReteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

