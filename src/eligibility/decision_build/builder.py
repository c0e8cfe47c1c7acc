"""The decision builder: outcomes from any backend → one :class:`~eligibility.decision.Decision`
(see the package docstring, :mod:`eligibility.decision_build`)."""


from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any, Literal

from eligibility.compile.outcomes import (
    CriterionOutcome,
    HouseholdOutcomes,
    Outcomes,
    ReasonOutcome,
)
from eligibility.compile.pack import CompiledMeasure, CompiledPack, CompiledRequirement
from eligibility.compile.runtime import UNKNOWN
from eligibility.decision import (
    _FIELDS_SET,
    _NEW,
    _SET_DICT,
    _SET_EXTRA,
    _SET_FIELDS,
    _SET_PRIVATE,
    STATUSES,
    CriterionResult,
    Decision,
    MeasureResult,
    MissingFact,
    Outcome,
    Provenance,
    Reason,
    SourceRef,
    Status,
    construct,
    field_template,
)
from eligibility.decision_build.encoding import DecisionEncoder
from eligibility.decision_build.memo import _MEMO_LIMIT, IdentityMemo, _memo
from eligibility.explain.calculation import StepViews, pack_decimals
from eligibility.explain.messages import render
from eligibility.pack.model import Criterion, RuleException
from eligibility.pack.yamlio import LocStr
from eligibility.version import __version__

Detail = Literal["full", "summary"]
DETAILS: tuple[Detail, ...] = ("full", "summary")
_STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}
_MESSAGE_KEYS = {o: f"outcome.{o}" for o in ("met", "not_met", "waived", "unknown",
                                              "discretionary")}
_EXACT = frozenset({bool, int, str, LocStr, date, type(None)})
#: the outcomes whose Reason's message is the template's (see DecisionBuilder._reason)
_FIXED_MESSAGE = frozenset({"met", "not_met"})
#: observed values that key a memo as they are (equal ones render and serialise alike for
#: one label; a label has one type): no decimal (1.0 ≠ 1.00, and rarely seen twice)
#: (enum facts arrive as the schema's own strings, a str subclass that knows its line)
_PLAIN = frozenset({bool, int, str, LocStr, date, type(None)})


_refcount = sys.getrefcount


def _holders_of_a_lone_outcome() -> int:
    """What :func:`sys.getrefcount` says of a measure's outcome that only its
    ``(index, measure, outcome)`` entry holds, read as :meth:`DecisionBuilder.build`
    reads it (the loop's own name for it, the call's argument): an outcome with more
    holders is held by a memo of the core too, i.e. shared between households, and
    what is built from it is kept by its identity at once. Measured, not assumed
    (interpreters differ); only an admission rule for a cache — an outcome wrongly
    taken for shared merely has its result kept (bounded)."""
    seen: list[int] = []
    for _index, _cm, out in ((0, None, object()),):
        seen.append(_refcount(out))
    return seen[0]


def _holders_of_lone_criteria() -> int:
    """:func:`_holders_of_a_lone_outcome` of a household's criteria outcomes, read as
    :meth:`DecisionBuilder._criteria` reads them (the household's outcomes hold the
    tuple, the call's argument and getrefcount's own)."""
    def criteria(outcomes: tuple[Any, ...]) -> int:
        return _refcount(outcomes)

    household = (tuple([object()]),)
    return criteria(household[0])


#: see _holders_of_a_lone_outcome, _holders_of_lone_criteria
_LONE_OUTCOME = _holders_of_a_lone_outcome()
_LONE_CRITERIA = _holders_of_lone_criteria()


def _value_key(value: Any) -> Any:
    """A memo key for a value: equal keys render and serialise alike (1.0 ≠ 1.00)."""
    return value if value.__class__ in _EXACT else (value.__class__, str(value))


_second = itemgetter(1)
_third = itemgetter(2)
_REASON_FIELDS = _FIELDS_SET[Reason]
#: the most Reasons kept per requirement, outcome and exception (one small memo each)
_REASON_LIMIT = 256
#: identity memos of measure results kept (one per language, detail, date and
#: unconfirmed parameters)
_RESULT_MEMOS = 64
#: the most whole results kept per measure and language
_RESULTS_LIMIT = 1024
#: the known values of a criterion met once, of which this many make it one whose
#: values are not kept (see _Crit.varied)
_VARIED = 512


class _Crit:
    """A criterion's result's static fields in one language, and its memos of results:
    a known value of an exact kind with no missing facts is kept by itself, a decimal by
    its text (1.0 ≠ 1.00), each the second time it is met (a household's own income is
    not kept); an unknown value by its missing facts, a known one with missing facts by
    (value, missing facts), at once. A value of another kind is built each time."""

    __slots__ = ("_lock", "decimal", "decimals", "fields", "known", "memo", "seen", "unknown",
                 "unknowns", "varied")

    def __init__(self, criterion: Criterion, lang: str, lock: threading.Lock,
                 empty: list[Any]) -> None:
        self._lock = lock
        fields = {"id": criterion.id, "title": criterion.title.get(lang), "value": None,
                  "known": False, "missing_facts": empty, "unconfirmed": criterion.unconfirmed}
        self.unknown = field_template(CriterionResult, fields)
        self.known = field_template(CriterionResult, {**fields, "known": True})
        #: a known value of an exact kind → (its class, its result); (value, missing
        #: facts) → the same, for one with missing facts. A hit counts only when the
        #: class is the value's (True == 1, 0 == False)
        self.memo: dict[Any, tuple[type, CriterionResult]] = {}
        #: an unknown value's missing facts → its result
        self.unknowns: dict[tuple[str, ...], CriterionResult] = {}
        #: a known decimal's text → its result
        self.decimals: dict[str, CriterionResult] = {}
        #: the keys of memo and decimals met once (kept the second time)
        self.seen: set[Any] = set()
        #: whether so many known values were met once that the memos are not worth a
        #: look-up (a household's own income: every value built, none kept, until
        #: ``seen`` is emptied when full)
        self.varied = False
        self.fields = _FIELDS_SET[CriterionResult]
        #: whether its values are decimals (a number, not an integer)
        kind = criterion.expr.type
        self.decimal = kind.kind == "num" and not kind.integer

    def result(self, value: Any, missing: tuple[str, ...]) -> tuple[CriterionResult, bool]:
        """The result for ``value`` and ``missing``, and whether it is a known value of
        an exact kind with no missing facts (one the core may share)."""
        cls = value.__class__
        if value is UNKNOWN:
            found = self.unknowns.get(missing)
            if found is None:
                found = _memo(self._lock, self.unknowns, missing, self.make(value, missing),
                              _REASON_LIMIT)
            return found, False
        if missing:
            if cls not in _EXACT:  # (a decimal: not kept)
                return self.make(value, missing), False
            key: Any = (value, missing)
            hit = self.memo.get(key)
            if hit is None or hit[0] is not cls:
                hit = _memo(self._lock, self.memo, key, (cls, self.make(value, missing)),
                            _REASON_LIMIT)
            return hit[1], False
        if cls in _EXACT:
            hit = self.memo.get(value)  # (no decimal: its hash costs)
            if hit is not None and hit[0] is cls:
                return hit[1], True
            made = self.make(value, missing)
            if not self.varied and self.again(value):
                _memo(self._lock, self.memo, value, (cls, made), _REASON_LIMIT)
            return made, True
        if cls is Decimal:
            text = str(value)
            found = self.decimals.get(text)
            if found is None:
                found = self.make(value, missing)
                if not self.varied and self.again(text):
                    _memo(self._lock, self.decimals, text, found, _REASON_LIMIT)
            return found, False
        return self.make(value, missing), False

    def again(self, key: Any) -> bool:
        """Whether ``key`` was met before; remembered if not."""
        if key in self.seen:
            return True
        with self._lock:
            if len(self.seen) >= _MEMO_LIMIT:
                self.seen.clear()
            self.seen.add(key)
            self.varied = len(self.seen) >= _VARIED
        return False

    def make(self, value: Any, missing: tuple[str, ...]) -> CriterionResult:
        """A new result for ``value`` and ``missing`` (:func:`construct`, inline)."""
        if value is UNKNOWN:
            fields = self.unknown.copy()
        else:
            fields = self.known.copy()
            fields["value"] = value
        if missing:
            fields["missing_facts"] = list(missing)
        result = _NEW(CriterionResult)
        _SET_DICT(result, fields)
        _SET_FIELDS(result, self.fields)
        _SET_EXTRA(result, None)
        _SET_PRIVATE(result, None)
        return result


class _Req:
    """A requirement's static parts in one language, and its Reason templates."""

    __slots__ = ("discretionary", "id", "messages", "note", "sources", "templates", "title",
                 "unconfirmed")

    def __init__(self, creq: CompiledRequirement, lang: str,
                 sources: Mapping[int, list[SourceRef]]) -> None:
        req = creq.req
        self.id = req.id
        self.title = req.title.get(lang)
        self.sources = sources[id(creq.sources)]
        self.unconfirmed = req.unconfirmed
        self.discretionary = req.discretionary
        self.note = req.note
        self.messages = {outcome: render(f"outcome.{outcome}", lang, title=self.title)
                         for outcome in ("met", "not_met", "discretionary")}
        #: outcome, or (outcome, exception id) → the fields of its Reason that do not
        #: vary, and a memo of the Reasons made from them, keyed by what varies (observed
        #: values, missing facts, the discretionary hint's value)
        self.templates: dict[Any,
                             tuple[dict[str, Any],
                                   dict[Any, tuple[Reason, ReasonOutcome]]]] = {}


class _Meas:
    """A measure's static parts in one language: its result's fixed fields, its place in
    the order, the result heads (with the summary results) made so far and a memo of
    whole results."""

    __slots__ = ("fields", "goal", "ranked", "results", "summaries")

    def __init__(self, fields: dict[str, Any], goal: int, ranked: bool) -> None:
        self.fields = fields
        self.goal = goal
        #: whether a priority group's rank names it within the measure (the ranks
        #: differ): a key then holds the rank, not the (rank, title) pair (a title's
        #: hash is a Python call)
        self.ranked = ranked
        #: (as_of, status, priority (its rank when ranked), missing, discretionary, the
        #: shown amount, *the identities of its reasons) → ((its place, a full result),
        #: the outcome it was first built from)
        self.results: dict[tuple[Any, ...], tuple[tuple[int, MeasureResult], Outcomes]] = {}
        #: the head key — (as_of, status, priority, missing, discretionary, each reason's
        #: outcome, the ids of their exceptions when one is waived) — → (its place and
        #: summary result when it shows no amount, the summary outcome it was first made
        #: from (None when made for a full result), its head: every field of a result but
        #: its reasons, amount and calculation, in the model's order); a summary's kept at
        #: once, a full result's once seen twice (see DecisionBuilder._summary)
        self.summaries: dict[tuple[Any, ...], tuple[tuple[int, MeasureResult],
                                                    Outcomes | None, dict[str, Any]]] = {}


class _Lang:
    """Everything static of the pack in one language, made when the builder starts:
    per requirement (by its id()) its parts and Reason templates, per measure (by its
    index) its parts."""

    __slots__ = ("measures", "reqs")

    def __init__(self, reqs: dict[int, _Req], measures: list[_Meas]) -> None:
        self.reqs = reqs
        self.measures = measures


class DecisionBuilder:
    """Builds Decisions for one compiled pack (see module docstring)."""

    def __init__(self, compiled: CompiledPack) -> None:
        self.compiled = compiled
        self.pack = compiled.pack
        self._goal_order = {g: i for i, g in enumerate(self.pack.meta.goals)}
        #: the bits of a priority in a result's place in the order (see _order): room
        #: for every rank of the pack, and a margin
        self._prio_bits = 2 + max([16, *(abs(p.rank).bit_length() for cm in compiled.measures
                                         for p in cm.measure.priority)])
        self._source_lists: dict[int, list[SourceRef]] = {}
        for cm in compiled.measures:
            self._sources(cm.sources)
            for creq in cm.requirements:
                self._sources(creq.sources)
                for group in creq.exception_sources.values():
                    self._sources(group)
        self._lock = threading.Lock()  # guards memo writes (memos are bounded: see _memo)
        self._texts: dict[tuple[Any, ...], Any] = {}
        #: per language and criterion (by its id()): its slot (see _Crit)
        self._crits: dict[str, dict[int, _Crit]] = {}
        #: per (language, date): the slot of each criterion in force, in the order the
        #: backends give them (see _criteria)
        self._layouts: dict[tuple[str, date], tuple[
            tuple[Criterion, dict[Any, tuple[type, CriterionResult]] | None, _Crit], ...]] = {}
        #: missing facts by (language, path, the measures they affect)
        self._missing_facts: dict[tuple[str, str, tuple[str, ...]], MissingFact] = {}
        #: per (language, full, date, unconfirmed parameters) — what a result depends on
        #: beyond its outcome — by the identity of a shared Outcomes: (the Outcomes, its
        #: measure, (its sort key, its result)); at most _RESULT_MEMOS of them
        self._result_ids: dict[tuple[str, bool, date, frozenset[str]], IdentityMemo] = {}
        #: per language: by the identity of a shared ReasonOutcome, (the ReasonOutcome,
        #: its Reason, its outcome or (outcome, exception id))
        self._reason_ids: dict[str, IdentityMemo] = {}
        #: per language: the criteria's results by the identity of a shared criteria
        #: tuple (one the core's memo holds too: see _holders_of_lone_criteria)
        self._criteria_ids: dict[str, IdentityMemo] = {}
        #: the hashes of (measure, language, head key) met once: a measure result's
        #: head is kept the second time (see _summary)
        self._heads_seen: set[int] = set()
        #: the JSON of its Decisions, with the parts they share kept (see :meth:`json`)
        self._encoder = DecisionEncoder(self._lock)
        self._unconfirmed: dict[tuple[int, date], tuple[frozenset[str], list[str]]] = {}
        self._steps = StepViews(pack_decimals(self.pack.parameters))
        # one empty list and dict for every Reason and result that has none (shared, as
        # the static parts are: a Decision is frozen, its lists are not to be mutated)
        self._empty: list[Any] = []
        self._empty_values: dict[str, Any] = {}
        meta = self.pack.meta
        self._provenance = field_template(Provenance, {
            "pack_id": meta.id, "pack_version": meta.version,
            "content_hash": self.pack.content_hash, "as_of": meta.valid_from,
            "engine_version": __version__, "facts_sha256": ""})
        self._decision = field_template(Decision, {
            "lang": "nb", "as_of": meta.valid_from, "measures": self._empty,
            "criteria": self._empty, "missing_facts": self._empty,
            "provenance": None, "why_not": None, "confirm_before_deciding": None})
        #: per language: the pack's static parts in it (see _Lang), made now for the
        #: languages the catalogs have (another one on first use)
        self._langs: dict[str, _Lang] = {}
        for lang in ("nb", "nn", "en"):
            self._lang(lang)

    def _lang(self, lang: str) -> _Lang:
        """The static parts in ``lang``: every requirement's, with a Reason template for
        each outcome it can have, and every measure's."""
        found = self._langs.get(lang)
        if found is not None:
            return found
        reqs: dict[int, _Req] = {}
        for cm in self.compiled.measures:
            for creq in cm.requirements:
                static = reqs[id(creq)] = _Req(creq, lang, self._source_lists)
                outcomes: list[Outcome] = ["met", "not_met", "unknown"]
                if static.discretionary:
                    outcomes.append("discretionary")
                for outcome in outcomes:
                    static.templates[outcome] = (
                        self._reason_template(creq, static, lang, outcome, None), {})
                for exc, _ in creq.exceptions:
                    static.templates["waived", exc.id] = (
                        self._reason_template(creq, static, lang, "waived", exc), {})
        measures = [_Meas(self._measure_fields(cm, lang),
                          self._goal_order.get(cm.measure.goal, 99),
                          len({p.rank for p in cm.measure.priority})
                          == len(cm.measure.priority))
                    for cm in self.compiled.measures]
        with self._lock:
            return self._langs.setdefault(lang, _Lang(reqs, measures))

    def _sources(self, group: tuple[dict[str, Any], ...]) -> list[SourceRef]:
        found = self._source_lists.get(id(group))
        if found is None:  # the groups live as long as the compiled pack
            found = [construct(SourceRef, {"ref": s["ref"], "url": s["url"]}) for s in group]
            self._source_lists[id(group)] = found
        return found

    def _req(self, creq: CompiledRequirement, lang: str) -> _Req:
        """The requirement's static parts in ``lang`` (made for one not in the pack)."""
        reqs = self._lang(lang).reqs
        found = reqs.get(id(creq))
        if found is None:
            with self._lock:
                found = reqs.setdefault(id(creq), _Req(creq, lang, self._source_lists))
        return found

    def _ids(self, memos: dict[Any, IdentityMemo], key: Any) -> IdentityMemo:
        found = memos.get(key)
        if found is None:
            with self._lock:
                if len(memos) >= _RESULT_MEMOS:
                    memos.clear()
                found = memos.setdefault(key, IdentityMemo(self._lock))
        return found

    def _text(self, key: tuple[Any, ...], make: Any) -> Any:
        found = self._texts.get(key)
        if found is None:
            found = _memo(self._lock, self._texts, key, make())
        return found

    # -- the Decision ----------------------------------------------------------
    def build(self, outcomes: HouseholdOutcomes, lang: str = "nb",
              detail: Detail = "full") -> Decision:
        """The Decision for ``outcomes`` in ``lang`` (``nb``, ``nn`` or ``en``)."""
        #: (its place in the order, result): sorted by the first alone (it differs: it
        #: holds its measure's index; see _order)
        results: list[tuple[int, MeasureResult]] = []
        append = results.append
        affects: dict[str, list[str]] = {}
        full = detail == "full"
        ls = self._langs.get(lang) or self._lang(lang)
        statics = ls.measures
        rids = self._reason_ids.get(lang)
        if rids is None:
            rids = self._ids(self._reason_ids, lang)
        when = outcomes.as_of
        memo_key = (lang, full, when, outcomes.unconfirmed_params)
        ids = self._result_ids.get(memo_key)
        if ids is None:  # (not `or`: an empty memo is falsy)
            ids = self._ids(self._result_ids, memo_key)
        entries = ids.entries
        for index, cm, out in outcomes.measures:
            entry = entries.get(id(out))
            if entry is not None and entry[0] is out and entry[1] is cm:
                append(entry[2])
            elif full:
                held = _refcount(out) > _LONE_OUTCOME  # (before anything else holds it)
                item, again = self._measure_result(cm, out, ls, rids, lang, outcomes)
                if again or held:  # a shared object (seen again, or the core holds it)
                    ids.put_flat((out, cm, item))
                append(item)
            else:  # a summary result: its head found by one key of the outcome's parts
                held = _refcount(out) > _LONE_OUTCOME
                status, amount, oreasons, missing, discretionary, ranked, _ = out
                meas = statics[index]
                outs = tuple(map(_second, oreasons))
                skey = (when, status, ranked[0] if ranked is not None and meas.ranked
                        else ranked, missing, discretionary, outs,
                        tuple(map(id, map(_third, oreasons))) if "waived" in outs else None)
                summary = meas.summaries.get(skey)
                if summary is None:
                    summary = self._summary(cm, meas, ls, out, lang, outcomes, skey, True)
                if status == "not_eligible" or amount is None or amount is UNKNOWN:
                    append(summary[0])
                    if held or summary[1] is out:  # a shared object: kept by identity
                        ids.put_flat((out, cm, summary[0]))
                else:  # an amount this household shows: its own result, of the shared head
                    fields = summary[2].copy()
                    fields["amount"] = amount
                    item = (summary[0][0], construct(MeasureResult, fields))
                    if held:
                        ids.put_flat((out, cm, item))
                    append(item)
            if out.missing:
                for path in out.missing:
                    affects.setdefault(path, []).append(cm.measure.id)
        results.sort()
        provenance = self._provenance.copy()
        provenance["as_of"] = when
        provenance["facts_sha256"] = outcomes.facts_sha256
        fields = self._decision.copy()
        fields["lang"] = lang if lang in ("nn", "en") else "nb"
        fields["as_of"] = when
        fields["measures"] = list(map(_second, results))
        fields["criteria"] = self._criteria(outcomes.criteria, lang, when)
        fields["missing_facts"] = self.missing(affects, lang) if affects else self._empty
        fields["provenance"] = construct(Provenance, provenance)
        return construct(Decision, fields)

    def _order(self, meas: _Meas, status: Status, priority: int | None, index: int) -> int:
        """A result's place among a Decision's measures, as one int: by goal, status,
        priority (none, or 0, as 99) and the measure's index, each in bits of its own."""
        bits = self._prio_bits
        rank = (priority or 99) + (1 << (bits - 1))  # (≥ 0 for every rank of the pack)
        if not 0 <= rank < 1 << bits or not 0 <= index < 1 << 32:
            raise ValueError(f"priority {priority} or index {index} out of the pack's range")
        return ((((meas.goal * len(STATUSES) + _STATUS_RANK[status]) << bits) + rank) << 32
                ) + index

    def _summary(self, cm: CompiledMeasure, meas: _Meas, ls: _Lang, out: Outcomes, lang: str,
                 outcomes: HouseholdOutcomes, skey: tuple[Any, ...], keep: bool,
                 ) -> tuple[tuple[int, MeasureResult], Outcomes | None, dict[str, Any]]:
        """A summary result with no amount shown, the (summary) outcome it was first made
        from and its head, kept for ``skey`` (see :meth:`build`): at once when ``keep`` (a
        summary's outcome is small), else when the key comes again."""
        head = self._head_fields(cm, ls, out, lang, outcomes)
        result = construct(MeasureResult, head)  # (a frozen model: its dict is not changed)
        item = (self._order(meas, out.status, result.priority, cm.index), result)
        found = (item, out if keep else None, head)  # (a full outcome is not held)
        if keep:
            _memo(self._lock, meas.summaries, skey, found, _RESULTS_LIMIT)
            return found
        # a full one's outcome — values, steps — is kept when its key comes again (a
        # household's own combination is not): the keys seen once are remembered by
        # their hash only (a collision merely keeps a result one sighting early)
        seen = hash((cm.index, lang, skey))
        if seen in self._heads_seen:
            _memo(self._lock, meas.summaries, skey, found, _RESULTS_LIMIT)
        else:
            with self._lock:
                if len(self._heads_seen) >= _MEMO_LIMIT:
                    self._heads_seen.clear()
                self._heads_seen.add(seen)
        return found


    def json(self, decision: Decision) -> bytes:
        """:func:`decision_bytes` of ``decision``, byte for byte, faster for Decisions
        this builder made (see :class:`~eligibility.decision_build.encoding.DecisionEncoder`)."""
        return self._encoder.dumps(decision)

    def _measure_unconfirmed(self, cm: CompiledMeasure, outcomes: HouseholdOutcomes,
                             ) -> tuple[frozenset[str], list[str]]:
        """What is unconfirmed in the measure on the date: as a set, and sorted (shared)."""
        key = (cm.index, outcomes.as_of)
        found = self._unconfirmed.get(key)
        if found is None:
            entries = frozenset(
                {f"param:{p}" for p in cm.params_used & outcomes.unconfirmed_params}
                | cm.unconfirmed
                | {entry for p, entry in self.compiled.stale_at(outcomes.as_of).items()
                   if p in cm.params_used})
            found = _memo(self._lock, self._unconfirmed, key, (entries, sorted(entries)))
        return found

    def _measure_fields(self, cm: CompiledMeasure, lang: str) -> dict[str, Any]:
        """The fields of the measure's result that do not vary, in the model's field
        order (the rest are put in per Decision)."""
        m = cm.measure
        return field_template(MeasureResult, {
            "id": m.id,
            "title": m.title.get(lang),
            "goal": m.goal,
            "goal_title": self.pack.meta.goals[m.goal].get(lang),
            "kind": "right" if m.kind == "right" else "recommendation",
            "status": None,
            "summary": "",
            "amount": None,
            "unit": m.amount.unit if m.amount else None,
            "amount_discretionary": bool(m.amount and m.amount.discretionary),
            "priority": None,
            "priority_reason": None,
            "reasons": self._empty,
            "missing_facts": self._empty,
            "discretionary": self._empty,
            "sources": self._source_lists[id(cm.sources)],
            "unconfirmed": self._empty,
            "advice": m.advice.get(lang) if m.advice else None,
            "calculation": None,
        })

    def _reason_template(self, creq: CompiledRequirement, static: _Req, lang: str,
                         outcome: Outcome, exc: RuleException | None) -> dict[str, Any]:
        """The fields of a Reason fixed by the requirement, outcome and exception (in the
        model's field order; ``values``, ``missing_facts`` and a message that depends on
        the household are put in per Decision)."""
        return field_template(Reason, {
            "requirement": static.id,
            "title": static.title,
            "outcome": outcome,
            "exception": exc.id if exc else None,
            "exception_title": exc.title.get(lang) if exc else None,
            "values": self._empty_values,
            "missing_facts": self._empty,
            "sources": (self._source_lists[id(creq.exception_sources[exc.id])] if exc
                        else static.sources),
            "message_key": _MESSAGE_KEYS[outcome],
            "message": static.messages.get(outcome, ""),
            "discretionary": static.discretionary,
            "unconfirmed": static.unconfirmed or bool(exc and exc.unconfirmed),
            "note": static.note,
        })

    def _reason(self, creq: CompiledRequirement, static: _Req, template: dict[str, Any],
                lang: str, outcome: Outcome, exc: RuleException | None,
                seen: tuple[str, ...], value: Any, values: dict[str, Any] | None) -> Reason:
        fields = template.copy()
        if outcome == "unknown":
            fields["message"] = self._text(("unknown", lang, static.title, seen), lambda: render(
                "outcome.unknown", lang, title=static.title, missing=", ".join(seen)))
        elif outcome == "waived":
            assert exc is not None
            fields["message"] = self._text(("waived", lang, static.title, exc.id), lambda: render(
                "outcome.waived", lang, title=static.title,
                exception=exc.title.get(lang)))
        elif outcome == "discretionary" and value is not UNKNOWN and creq.fn is not None:
            fields["message"] = self._text(
                ("hint", lang, static.title, _value_key(value)), lambda: render(
                    "outcome.discretionary_hint", lang, title=static.title,
                    indicator=render(f"value.{str(value).lower()}", lang)
                    if isinstance(value, bool) else value))
        if values:
            fields["values"] = values
        if seen:
            fields["missing_facts"] = list(seen)
        return construct(Reason, fields)

    def _templates(self, creq: CompiledRequirement, static: _Req, lang: str,
                   outcome: Outcome, exc: RuleException | None,
                   ) -> tuple[dict[str, Any], dict[Any, tuple[Reason, ReasonOutcome]]]:
        tkey: Any = (outcome, exc.id) if exc else outcome
        found = static.templates.get(tkey)
        if found is None:
            found = (self._reason_template(creq, static, lang, outcome, exc), {})
            with self._lock:
                found = static.templates.setdefault(tkey, found)
        return found

    def measure_result(self, cm: CompiledMeasure, out: Outcomes, lang: str,
                       outcomes: HouseholdOutcomes, full: bool = True) -> MeasureResult:
        """One measure's result (shared with equal ones)."""
        if not full:  # (what build does for each measure)
            alone = outcomes._replace(measures=((cm.index, cm, out),), criteria=())
            return self.build(alone, lang, "summary").measures[0]
        rids = self._reason_ids.get(lang)
        if rids is None:
            rids = self._ids(self._reason_ids, lang)
        return self._measure_result(cm, out, self._langs.get(lang) or self._lang(lang), rids,
                                    lang, outcomes)[0][1]

    def _measure_result(self, cm: CompiledMeasure, out: Outcomes, ls: _Lang,
                        rids: IdentityMemo, lang: str, outcomes: HouseholdOutcomes,
                        ) -> tuple[tuple[int, MeasureResult], bool]:
        """The full result with its place in the order (see _order), and whether it was
        found in the memo by values as built from this very ``out`` (so ``out`` is an
        object the core shares).

        A result is its head — every field but the reasons, the amount and the
        calculation, decided by the status, priority, missing facts, discretionary
        assessments and each reason's outcome (and exception), kept with the summary
        results (see :meth:`build`) — and the parts of this household."""
        status, amount, oreasons, missing, discretionary, ranked, calculation = out
        meas = ls.measures[cm.index]
        priority: Any = ranked[0] if ranked is not None and meas.ranked else ranked
        reasons: list[Reason] = []
        # equal reasons are made once and shared; values are keyed exactly (a decimal by
        # its text: 1.0 ≠ 1.00). A reason showing a decimal — an income, a cost — is
        # rarely seen twice: it is built each time and not kept, so the memos hold what
        # does repeat.
        shared = True  # every reason came from (or went into) a memo
        append = reasons.append
        reqs = ls.reqs
        plain = _PLAIN.issuperset
        rentries = rids.entries
        new, set_dict, set_fields = _NEW, _SET_DICT, _SET_FIELDS
        set_extra, set_private = _SET_EXTRA, _SET_PRIVATE
        reason_fields = _REASON_FIELDS
        for ro in oreasons:
            entry = rentries.get(id(ro))
            if entry is not None and entry[0] is ro:  # built before from this very object
                append(entry[1])
                continue
            creq, outcome, exc, seen, value, values = ro
            static = reqs.get(id(creq)) or self._req(creq, lang)
            pair = static.templates.get((outcome, exc.id) if exc is not None else outcome
                                        ) or self._templates(creq, static, lang, outcome, exc)
            # within one template: the observed values (never tuples themselves), and
            # what else varies when there is any
            rkey: Any = None
            if values and len(values) == 1 and not seen and outcome != "discretionary":
                [only] = values.values()  # the common case, without a tuple
                if only.__class__ in _PLAIN:
                    rkey = only
            else:
                vals = tuple(values.values()) if values else ()
                if plain(map(type, vals)):
                    vkey = _value_key(value) if outcome == "discretionary" else None
                    if seen or vkey is not None:
                        rkey = (seen, vkey, *vals)
                    else:
                        rkey = vals[0] if len(vals) == 1 else vals
            kept = pair[1].get(rkey) if rkey is not None else None
            if kept is None:
                if outcome in _FIXED_MESSAGE:  # (what _reason does, inline)
                    rfields = pair[0].copy()
                    if values:
                        rfields["values"] = values
                    if seen:
                        rfields["missing_facts"] = list(seen)
                    reason = new(Reason)
                    set_dict(reason, rfields)
                    set_fields(reason, reason_fields)
                    set_extra(reason, None)
                    set_private(reason, None)
                else:
                    reason = self._reason(creq, static, pair[0], lang, outcome, exc, seen,
                                          value, values)
                if rkey is not None:
                    _memo(self._lock, pair[1], rkey, (reason, ro), _REASON_LIMIT)
                else:
                    shared = False
            else:
                reason = kept[0]
                if kept[1] is ro:  # seen again: kept by identity too
                    rids.put(ro, reason)
            append(reason)
        mkey: tuple[Any, ...] | None = None
        if shared and calculation is None:
            # a shared result's reasons are memoised objects, kept alive by the entry:
            # their identities name them (and so their outcomes); the amount as a memo
            # key (a result that is not eligible shows none)
            mkey = (outcomes.as_of, status, priority, missing, discretionary,
                    None if status == "not_eligible" else _value_key(amount),
                    *map(id, reasons))
            found = meas.results.get(mkey)
            if found is not None:
                return found[0], found[1] is out
        outs = tuple(map(_second, oreasons))
        skey = (outcomes.as_of, status, priority, missing, discretionary, outs,
                tuple(map(id, map(_third, oreasons))) if "waived" in outs else None)
        summary = meas.summaries.get(skey)
        if summary is None:
            summary = self._summary(cm, meas, ls, out, lang, outcomes, skey, False)
        fields = summary[2].copy()
        if reasons:
            fields["reasons"] = reasons
        if amount is not UNKNOWN and status != "not_eligible":
            fields["amount"] = amount
        if calculation is not None:
            fields["calculation"] = self._steps.steps(calculation, lang)
        item = (summary[0][0], construct(MeasureResult, fields))  # (its head's place)
        if mkey is not None:
            _memo(self._lock, meas.results, mkey, (item, out), _RESULTS_LIMIT)
        return item, False

    def _head_fields(self, cm: CompiledMeasure, ls: _Lang, out: Outcomes, lang: str,
                     outcomes: HouseholdOutcomes) -> dict[str, Any]:
        """A result's fields but its reasons, amount and calculation, made from ``out``."""
        status = out.status
        failed: list[str] = []
        assessed: list[str] = []
        flagged: list[str] = []
        for ro in out.reasons:
            creq, outcome, exc = ro[0], ro[1], ro[2]
            static = ls.reqs.get(id(creq)) or self._req(creq, lang)
            if outcome == "not_met":
                failed.append(static.title)
            elif outcome == "discretionary":
                assessed.append(static.title)
            if static.unconfirmed or (exc is not None and exc.unconfirmed):
                flagged.append(static.id)
        # (the texts are shared by every head that shows them: kept by what they say)
        if status == "eligible":
            summary = self._text(("eligible", lang), lambda: render("summary.eligible", lang))
        elif status == "not_eligible":
            summary = self._text(("not_eligible", lang, *failed), lambda: render(
                "summary.not_eligible", lang, failed="; ".join(failed)))
        elif out.missing:
            summary = self._text(("missing", lang, out.missing), lambda: render(
                "summary.missing", lang,
                missing=", ".join(self.title_of(p, lang) for p in out.missing)))
        else:
            summary = self._text(("discretion", lang, *assessed), lambda: render(
                "summary.discretion", lang, discretionary="; ".join(assessed)))
        fields = ls.measures[cm.index].fields.copy()
        fields["status"] = status
        fields["summary"] = summary
        if status == "not_eligible":
            fields["advice"] = None
        priority = out.priority
        if priority:
            fields["priority"] = priority[0]
            if priority[1]:
                fields["priority_reason"] = priority[1].get(lang)
        if out.missing:
            fields["missing_facts"] = list(out.missing)
        if out.discretionary:
            fields["discretionary"] = list(out.discretionary)
        unconfirmed_set, unconfirmed_list = self._measure_unconfirmed(cm, outcomes)
        if flagged:
            unconfirmed_list = sorted(unconfirmed_set | {f"requirement:{r}" for r in flagged})
        if unconfirmed_list:
            fields["unconfirmed"] = unconfirmed_list
        return fields

    def _criteria(self, criteria: tuple[CriterionOutcome, ...], lang: str, when: date,
                  ) -> list[CriterionResult]:
        """The criteria's results; for a tuple the core shares (one something besides
        the household holds: see :func:`_holders_of_lone_criteria`), kept by its
        identity. The core shares only tuples of known values of exact kinds; others
        are not held.

        Each result comes from its criterion's slot (see :class:`_Crit`), found by the
        criterion's place in the date's criteria (a layout per language and date, each
        place checked to hold that very criterion): a known value of an exact kind with
        no missing facts costs one look-up."""
        ids = self._criteria_ids.get(lang)
        if ids is None:
            ids = self._ids(self._criteria_ids, lang)
        entry = ids.entries.get(id(criteria))
        if entry is not None and entry[0] is criteria:
            kept: list[CriterionResult] = entry[1]
            return kept
        held = _refcount(criteria) > _LONE_CRITERIA  # (the core's memo holds it too)
        layout = self._layouts.get((lang, when))
        if layout is None or len(layout) != len(criteria):
            layout = self._layout(criteria, lang, when)
        results: list[CriterionResult] = []
        append = results.append
        plain = True  # every value of an exact kind, none unknown: a tuple the core may share
        # (unpacked in the loop's target: a named tuple unpacks at half the cost there)
        for (c, value, missing), (crit, memo, slot) in zip(criteria, layout, strict=True):
            if c is not crit:  # (a criterion not in the date's layout)
                slot = self._slot(c, lang)
            elif missing:
                if value is UNKNOWN:  # (what slot.result does, inline)
                    found = slot.unknowns.get(missing)
                    if found is not None:
                        plain = False
                        append(found)
                        continue
            elif memo is not None:  # (not a decimal criterion's)
                try:
                    hit = memo.get(value)  # (an exact value's result, with its class)
                except TypeError:  # (a value of no exact kind that cannot be a key)
                    hit = None
                if hit is not None and hit[0] is value.__class__:
                    append(hit[1])
                    continue
                if slot.varied and value.__class__ in _EXACT:  # (as slot.result does)
                    append(slot.make(value, missing))
                    continue
            elif value.__class__ is Decimal:  # (what slot.result does, inline)
                plain = False
                if slot.varied:
                    append(slot.make(value, missing))
                    continue
                text = str(value)
                found = slot.decimals.get(text)
                if found is None:
                    found = slot.make(value, missing)
                    if slot.again(text):
                        _memo(self._lock, slot.decimals, text, found, _REASON_LIMIT)
                append(found)
                continue
            result, exact = slot.result(value, missing)
            append(result)
            plain = plain and exact
        if plain and held:  # (else made for this household — facts missing, a decimal)
            ids.put(criteria, results)
        return results

    def _layout(self, criteria: tuple[CriterionOutcome, ...], lang: str, when: date,
                ) -> tuple[tuple[Criterion, dict[Any, tuple[type, CriterionResult]] | None,
                                 _Crit], ...]:
        """Per place in ``criteria``: its criterion, the memo of its slot (None for a
        criterion of decimal values: a decimal's hash costs more than its result is
        worth looking up by) and the slot (kept for the language and date)."""
        slots = [self._slot(outcome[0], lang) for outcome in criteria]
        layout = tuple([(outcome[0], None if slot.decimal else slot.memo, slot)
                        for outcome, slot in zip(criteria, slots, strict=True)])
        _memo(self._lock, self._layouts, (lang, when), layout, _RESULT_MEMOS)
        return layout

    def _slot(self, criterion: Criterion, lang: str) -> _Crit:
        """The criterion's slot in ``lang`` (made on first use; the criteria live as long
        as the pack)."""
        per = self._crits.get(lang)
        if per is None:
            with self._lock:
                per = self._crits.setdefault(lang, {})
        found = per.get(id(criterion))
        if found is None:
            found = _Crit(criterion, lang, self._lock, self._empty)
            with self._lock:
                found = per.setdefault(id(criterion), found)
        return found

    def criterion_result(self, outcome: CriterionOutcome, lang: str) -> CriterionResult:
        """One criterion's result; equal results are made once and shared."""
        c, value, missing = outcome
        return self._slot(c, lang).result(value, missing)[0]

    def missing(self, affects: dict[str, list[str]], lang: str) -> list[MissingFact]:
        facts = sorted(affects.items(), key=lambda item: (-len(item[1]), item[0]))
        out = []
        kept = self._missing_facts
        for path, measures in facts:
            key = (lang, path, tuple(measures))
            found = kept.get(key)
            if found is None:
                found = _memo(self._lock, kept, key, construct(MissingFact, {
                    "path": path, "question": self.question(path, lang), "affects": measures}))
            out.append(found)
        return out

    def title_of(self, path: str, lang: str) -> str:
        """The short title of the fact at ``path``."""
        return self._describe(path, lang, question=False)

    def question(self, path: str, lang: str) -> str:
        """How to ask for the fact at ``path`` (``members[2].age`` → the members.age field)."""
        return self._describe(path, lang, question=True)

    def _describe(self, path: str, lang: str, question: bool) -> str:
        schema = self.pack.schema
        base = path
        prefix = ""
        if path.startswith("members["):
            index, _, name = path[len("members["):].partition("].")
            base = f"members.{name}"
            prefix = f"#{int(index) + 1}: " if index.isdigit() else ""
        spec = schema.field(base)
        if spec is None:
            group = schema.groups.get(base)
            return group.title.get(lang) if group else path
        text = spec.question.get(lang) if question and spec.question else spec.title.get(lang)
        return prefix + text

