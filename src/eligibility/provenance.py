"""Facts as given: provenance wrappers and dated values, resolved to plain facts per date.

A fact in a household's document may be a plain value (unknown provenance), a
wrapper ``{value: ..., source: ..., confirmed: true|false}`` naming where it came
from (``source`` from the vocabulary the pack declares as ``fact_sources`` in
pack.yaml; ``confirmed`` defaults to false: a fact is a hypothesis until it is
confirmed), or a list of dated values ``[{from: DATE, value: ..., source?,
confirmed?}, ...]`` (ascending dates, at most
:data:`~eligibility.limits.MAX_DATED_VALUES`; before the first date the fact is absent; a
dated value without ``source`` or ``confirmed`` has unknown provenance).
:func:`read_given` parses a document once into :class:`GivenFacts`;
:meth:`GivenFacts.at` gives the plain document on one date, which then goes to
:class:`~eligibility.facts.FactValidator` as usual; :meth:`GivenFacts.unconfirmed_at`
the unconfirmed facts on that date. :func:`confirm_list` turns those into the
Decision's "confirm before deciding" items. A document with plain values only is passed through
untouched, so its Decision (and JSON) is unchanged. :class:`DecisiveReads` knows, per
measure, which facts each requirement, exception and the amount read, so that the
list names only the facts the outcome actually depended on. Problems are
:class:`~eligibility.errors.FactsError` issues naming the fact's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from eligibility.compile.fast import FastPack, Reads
from eligibility.errors import FactIssue, FactsError
from eligibility.facts import check_shape
from eligibility.limits import MAX_DATED_VALUES

if TYPE_CHECKING:
    from eligibility.compile.outcomes import HouseholdOutcomes, Outcomes
    from eligibility.decision import Decision
    from eligibility.engine import Engine
    from eligibility.pack.model import FactSchema

_NONE = Reads(frozenset(), frozenset(), False)
WRAPPER_KEYS = ("value", "source", "confirmed")
DATED_KEYS = ("from", "value", "source", "confirmed")


@dataclass(frozen=True)
class Given:
    """One value of a fact as given: from when (``None``: always), where from."""

    start: date | None
    value: Any
    source: str | None
    confirmed: bool | None  # None: a plain value, provenance unknown


@dataclass(frozen=True)
class GivenFact:
    """A fact given as a wrapper or as dated values, and where it sits in the document."""

    path: str  # "economy.income_month" or "members[1].age"
    location: tuple[Any, ...]  # (group, name) or (group, index, name)
    values: tuple[Given, ...]  # ascending start dates
    dated: bool

    def at(self, when: date) -> Given | None:
        found = None
        for given in self.values:
            if given.start is None or given.start <= when:
                found = given
        return found


@dataclass(frozen=True)
class GivenFacts:
    """A facts document with its wrappers and dated values parsed (see module docstring)."""

    raw: dict[str, Any]
    special: tuple[GivenFact, ...]

    @property
    def plain(self) -> bool:
        return not self.special

    def at(self, when: date) -> dict[str, Any]:
        """The plain facts document on ``when``."""
        if not self.special:
            return self.raw
        doc: dict[str, Any] = {}
        for key, value in self.raw.items():
            if isinstance(value, dict):
                doc[key] = dict(value)
            elif isinstance(value, list):
                doc[key] = [dict(m) if isinstance(m, dict) else m for m in value]
            else:
                doc[key] = value
        for fact in self.special:
            given = fact.at(when)
            container: Any = doc[fact.location[0]]
            for part in fact.location[1:-1]:
                container = container[part]
            if given is None:
                container.pop(fact.location[-1], None)
            else:
                container[fact.location[-1]] = given.value
        return doc

    def unconfirmed_at(self, when: date) -> list[tuple[str, Given]]:
        """The facts given with a source and not confirmed, on ``when``."""
        out = []
        for fact in self.special:
            given = fact.at(when)
            if given is not None and given.confirmed is False:
                out.append((fact.path, given))
        return out

    def dates(self) -> list[tuple[date, str, Any]]:
        """Every date a dated fact takes a new value: (date, path, value)."""
        return [(g.start, fact.path, g.value) for fact in self.special if fact.dated
                for g in fact.values if g.start is not None]


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _Reader:
    def __init__(self, vocabulary: tuple[str, ...]) -> None:
        self.vocabulary = vocabulary
        self.issues: list[FactIssue] = []

    def fail(self, path: str, message: str, seen: Any, expected: str | None) -> None:
        self.issues.append(FactIssue(path, message, seen, expected))

    def entry(self, item: dict[str, Any], path: str, keys: tuple[str, ...],
              start: date | None) -> Given | None:
        unknown = [k for k in item if k not in keys]
        if unknown:
            self.fail(f"{path}.{unknown[0]}", "not a key of a fact with a source",
                      unknown[0], "one of " + ", ".join(keys))
            return None
        if "value" not in item:
            self.fail(f"{path}.value", "a fact with a source needs its value", None, "a value")
            return None
        value = item["value"]
        if isinstance(value, (dict, list)):
            self.fail(f"{path}.value", "a fact's value must be a single value",
                      type(value).__name__, "a single value")
            return None
        source = item.get("source")
        if source is not None:
            if not self.vocabulary:
                self.fail(f"{path}.source", "this pack declares no fact sources", source, None)
                return None
            if source not in self.vocabulary:
                self.fail(f"{path}.source", "not a fact source of this pack", source,
                          "one of " + ", ".join(self.vocabulary))
                return None
        # a wrapper is a hypothesis until confirmed; a bare dated value has unknown provenance
        confirmed = item.get("confirmed",
                             None if start is not None and source is None else False)
        if confirmed is not None and not isinstance(confirmed, bool):
            self.fail(f"{path}.confirmed", "must be true or false", confirmed, "true or false")
            return None
        return Given(start, value, source, confirmed)

    def fact(self, value: Any, path: str, location: tuple[Any, ...]) -> GivenFact | None:
        if isinstance(value, dict):
            given = self.entry(value, path, WRAPPER_KEYS, None)
            return GivenFact(path, location, (given,), False) if given else None
        if len(value) > MAX_DATED_VALUES:
            self.fail(path, f"at most {MAX_DATED_VALUES} dated values", len(value), None)
            return None
        if not value:
            self.fail(path, "a list of dated values needs at least one", value,
                      "[{from: DATE, value: ...}]")
            return None
        values: list[Given] = []
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                self.fail(where, "a dated value must be {from: DATE, value: ...}",
                          type(item).__name__, "an object")
                return None
            start = _as_date(item.get("from"))
            if start is None:
                self.fail(f"{where}.from", "a dated value needs its date", item.get("from"),
                          "a date YYYY-MM-DD")
                return None
            if values and values[-1].start is not None and start <= values[-1].start:
                self.fail(f"{where}.from", "dated values must be in ascending date order",
                          start.isoformat(), f"after {values[-1].start.isoformat()}")
                return None
            given = self.entry(item, where, DATED_KEYS, start)
            if given is None:
                return None
            values.append(given)
        return GivenFact(path, location, tuple(values), True)


def _special(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _has_special(raw: dict[str, Any]) -> bool:
    for gval in raw.values():
        if isinstance(gval, dict) and any(_special(v) for v in gval.values()):
            return True
        if isinstance(gval, list) and any(
                isinstance(m, dict) and any(_special(v) for v in m.values()) for m in gval):
            return True
    return False


def read_given(raw: Any, vocabulary: tuple[str, ...] = (),
               schema: FactSchema | None = None) -> GivenFacts:
    """Parse the wrappers and dated values of a facts document (raises FactsError).

    A document with wrappers or dated values is first held to the limits of
    :func:`~eligibility.facts.check_shape`; anything not a mapping of groups, or with
    plain values only, is left for the validator."""
    if not isinstance(raw, dict) or not _has_special(raw):
        return GivenFacts(raw, ())
    check_shape(raw, schema)
    reader = _Reader(vocabulary)
    special: list[GivenFact] = []
    for group, gval in raw.items():
        if isinstance(gval, dict):
            for name, value in gval.items():
                if _special(value):
                    fact = reader.fact(value, f"{group}.{name}", (group, name))
                    if fact:
                        special.append(fact)
        elif isinstance(gval, list):
            for i, member in enumerate(gval):
                if not isinstance(member, dict):
                    continue
                for name, value in member.items():
                    if _special(value):
                        fact = reader.fact(value, f"{group}[{i}].{name}", (group, i, name))
                        if fact:
                            special.append(fact)
    if reader.issues:
        raise FactsError(reader.issues)
    return GivenFacts(raw, tuple(special))


class DecisiveReads:
    """Per compiled measure, the facts each part reads: a requirement's own expression,
    each of its exceptions, the whole requirement (expression and exceptions), the
    amount and the priority groups (lets and criteria followed). Built once per Engine;
    immutable, so one instance serves every thread."""

    def __init__(self, fast: FastPack) -> None:
        self._by_index: dict[int, _MeasureReads] = {}
        for i, fm in enumerate(fast.measures):
            m = fm.cm.measure
            lets: dict[str, Reads] = {}
            for name, expr in m.lets:
                lets[name] = fast._reads(expr.node, lets)
            own: dict[str, Reads] = {}
            exceptions: dict[tuple[str, str], Reads] = {}
            whole: dict[str, Reads] = {}
            for fr in fm.requirements:
                req = fr.creq.req
                own[req.id] = fast._reads(req.expr.node, lets) if req.expr else _NONE
                for exc in req.exceptions:
                    exceptions[(req.id, exc.id)] = fast._reads(exc.expr.node, lets)
                whole[req.id] = fr.reads
            priority = _NONE
            for _, _, _, reads, _ in fm.priority:
                priority |= reads
            self._by_index[i] = _MeasureReads(fm.reads, own, exceptions, whole,
                                              fm.amount_reads, priority)

    def decisive(self, index: int, outcomes: Outcomes) -> Reads:
        """The facts the measure's outcome (status, amount, priority) depended on.

        Not eligible: every failing requirement, with its exceptions (one of them
        applying would waive it). Otherwise: each met requirement's expression, each
        waived requirement's waiving exception, every unknown or discretionary
        requirement whole, the amount and the priority groups. A requirement that
        reads ``amount`` brings the amount's facts."""
        m = self._by_index[index]
        found = _NONE
        if outcomes.status == "not_eligible":
            for r in outcomes.reasons:
                if r.outcome == "not_met":
                    found |= m.whole.get(r.creq.req.id, m.all)
        else:
            for r in outcomes.reasons:
                rid = r.creq.req.id
                if r.outcome == "met":
                    found |= m.own.get(rid, m.all)
                elif r.outcome == "waived" and r.waived_by is not None:
                    found |= m.exceptions.get((rid, r.waived_by.id), m.all)
                else:
                    found |= m.whole.get(rid, m.all)
            found |= m.amount | m.priority
        if found.amount:
            found |= m.amount
        return found


@dataclass(frozen=True)
class _MeasureReads:
    all: Reads
    own: dict[str, Reads]
    exceptions: dict[tuple[str, str], Reads]
    whole: dict[str, Reads]
    amount: Reads
    priority: Reads


def _reads_fact(reads: Reads, path: str) -> bool:
    group, _, name = path.partition(".")
    if "[" in group:  # members[1].income_month: a member field
        return name in reads.member_fields
    return path in reads.facts


def confirm_list(engine: Engine, given: GivenFacts, when: date, decision: Decision,
                 outcomes: HouseholdOutcomes | None = None) -> Decision:
    """``decision`` with its "confirm before deciding" items: each unconfirmed fact on
    ``when`` that a measure's outcome depended on (:meth:`DecisiveReads.decisive`;
    without ``outcomes``, every fact the measure reads), with those measures."""
    from eligibility.decision import ConfirmFact

    unconfirmed = given.unconfirmed_at(when)
    if not unconfirmed:
        return decision.model_copy(update={"confirm_before_deciding": []})
    in_decision = {m.id for m in decision.measures}
    reads: list[tuple[str, Reads]] = []
    if outcomes is not None:
        index = engine.decisive
        reads = [(cm.measure.id, index.decisive(i, out)) for i, cm, out in outcomes.measures
                 if cm.measure.id in in_decision]
    else:
        reads = [(fm.cm.measure.id, fm.reads) for fm in engine.fast.measures
                 if fm.cm.measure.id in in_decision]
    items: list[ConfirmFact] = []
    for path, g in unconfirmed:
        affects = [mid for mid, r in reads if _reads_fact(r, path)]
        if affects:
            items.append(ConfirmFact(path=path, source=g.source, value=g.value,
                                     affects=affects))
    return decision.model_copy(update={"confirm_before_deciding": items})
