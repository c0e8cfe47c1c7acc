"""A Decision's JSON bytes: byte for byte what ``model_dump_json()`` gives, made faster.

:func:`decision_bytes` writes any Decision with orjson where it is installed (about twice
as fast as pydantic-core, which it falls back to, as for what orjson refuses).
:class:`DecisionEncoder` (one per decision builder) writes the Decisions its builder
made: the JSON of a part Decisions share — a measure result, reason, criterion result,
calculation step, source list that a memo holds besides the Decision — is kept by its
identity (orjson fragments) and written as it is from then on; a part only this
Decision holds is written as before and not kept, its sources from their list's kept
JSON."""

from __future__ import annotations

import sys
import threading
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from eligibility.decision import (
    CalculationStep,
    ConfirmFact,
    CriterionResult,
    Decision,
    MeasureResult,
    MissingFact,
    ParameterUsed,
    Provenance,
    Reason,
    SourceRef,
    construct,
)
from eligibility.decision_build.memo import IdentityMemo
from eligibility.fastjson import AVAILABLE as _FAST_JSON
from eligibility.fastjson import dumps as _fast_dumps
from eligibility.fastjson import fragment as _fragment

#: the models whose ``__dict__`` is their JSON object as it is (fields in order, no
#: aliases, nothing left out); checked by exact class, before the slower isinstance
_AS_DICT = frozenset({MeasureResult, Reason, SourceRef, CalculationStep, ParameterUsed,
                      CriterionResult, MissingFact, Provenance, ConfirmFact})
#: those of them with a ``sources`` list
_WITH_SOURCES = frozenset({MeasureResult, Reason, CalculationStep})


def _default(obj: Any) -> Any:
    if obj.__class__ in _AS_DICT:
        return obj.__dict__
    if isinstance(obj, BaseModel):
        if obj.__class__ is Decision and obj.confirm_before_deciding is None:
            fields = dict(obj.__dict__)
            del fields["confirm_before_deciding"]  # left out when absent (see Decision)
            return fields
        return obj.__dict__  # the Decision models: fields in order, no aliases
    if isinstance(obj, Decimal):
        return str(obj)  # as pydantic writes a Decimal
    raise TypeError(type(obj).__name__)


def decision_bytes(decision: Decision) -> bytes:
    """The Decision's JSON, byte for byte what ``model_dump_json()`` gives, made with
    orjson when it is installed (about twice as fast); pydantic-core otherwise, and
    for what orjson refuses (integers beyond 64 bits)."""
    fast = _fast_dumps(decision, _default)
    return fast if fast is not None else Decision.__pydantic_serializer__.to_json(decision)


_refcount = sys.getrefcount


def _holders_of_a_lone_part() -> int:
    """What :func:`sys.getrefcount` says, inside the JSON encoder's ``default``, of a
    model that only its list holds (the list, the call's argument, getrefcount's own):
    a part with more holders is held by a memo too, i.e. shared between Decisions.
    Measured, not assumed (interpreters differ); only an admission rule for a cache —
    a part wrongly taken for shared merely gets its JSON kept."""
    seen: list[int] = []

    def probe(obj: Any) -> Any:
        seen.append(_refcount(obj))
        return None

    _fast_dumps([construct(SourceRef, {"ref": "", "url": None})], probe)
    return seen[0] if seen else 1 << 30


def _criteria_holders(fields: dict[str, Any]) -> int:
    """How many references the criteria list in a copy of a Decision's fields has."""
    return _refcount(fields["criteria"])


def _holders_of_a_lone_list() -> int:
    """:func:`_criteria_holders` of a list only its Decision holds (see
    :func:`_holders_of_a_lone_part`)."""
    fields: dict[str, Any] = {"criteria": [1]}
    return _criteria_holders(dict(fields))



#: see _holders_of_a_lone_part
_ONE_HOLDER = _holders_of_a_lone_part()
_ONE_LIST_HOLDER = _holders_of_a_lone_list()
#: the most shared parts (and source lists) whose JSON an encoder keeps
_JSON_LIMIT = 4096


class DecisionEncoder:
    """The JSON of a builder's Decisions, with the JSON of the parts they share kept
    (see the module docstring); its memos are written under the builder's lock."""

    def __init__(self, lock: threading.Lock) -> None:
        #: the JSON (an orjson fragment) of shared parts, by their identity
        self._json_ids = IdentityMemo(lock, _JSON_LIMIT)
        self._json_entries = self._json_ids.entries  # (emptied in place, never replaced)
        #: the JSON of source lists (static: a requirement's, a measure's, a step's), by
        #: their identity: a part's sources are written in one piece
        self._sources_json = IdentityMemo(lock, _JSON_LIMIT)

    def dumps(self, decision: Decision) -> bytes:
        """:func:`decision_bytes` of ``decision``, byte for byte, faster for Decisions
        its builder made: the JSON of a part Decisions share (a measure result, reason,
        criterion result, calculation step, source, … that a memo holds besides the
        Decision: more references to it than its one list's) is kept, by its identity,
        and written as it is from then on. A part only this Decision holds is written
        as before and not kept, but its sources from their list's kept JSON."""
        if not _FAST_JSON:
            return decision_bytes(decision)
        fast = _fast_dumps(decision, self._json_default)
        return fast if fast is not None else Decision.__pydantic_serializer__.to_json(decision)

    def _json_default(self, obj: Any) -> Any:
        cls = obj.__class__
        if cls is Decimal:
            return str(obj)  # as pydantic writes a Decimal
        entry = self._json_entries.get(id(obj))  # (a shared part, the common case)
        if entry is not None and entry[0] is obj:
            return entry[1]
        if cls is Decision:
            return self._decision_json(obj)
        if cls in _AS_DICT:
            fields = obj.__dict__
            if cls in _WITH_SOURCES and fields["sources"]:  # a list parts share: kept
                sources = fields["sources"]
                found = self._sources_json.entries.get(id(sources))
                if found is None or found[0] is not sources:
                    data = _fast_dumps(sources, self._json_default)
                    if data is None:
                        raise TypeError("sources")  # (what orjson refuses)
                    found = (sources, _fragment(data))
                    self._sources_json.put_flat(found)
                fields = fields.copy()
                fields["sources"] = found[1]
            if _refcount(obj) > _ONE_HOLDER:  # held by more than its Decision: shared
                data = _fast_dumps(fields, self._json_default)
                if data is None:
                    raise TypeError(type(obj).__name__)  # (what orjson refuses)
                made = _fragment(data)
                self._json_ids.put(obj, made)
                return made
            return fields
        return _default(obj)

    def _decision_json(self, decision: Decision) -> dict[str, Any]:
        """The Decision's fields as its JSON object has them, its criteria's results as
        kept JSON when the list is one the builder shares."""
        fields = dict(decision.__dict__)
        if fields["confirm_before_deciding"] is None:
            del fields["confirm_before_deciding"]  # left out when absent (see Decision)
        shared = _criteria_holders(fields) > _ONE_LIST_HOLDER
        criteria = fields["criteria"]
        entry = self._json_ids.entries.get(id(criteria))
        if entry is not None and entry[0] is criteria:
            fields["criteria"] = entry[1]
        elif shared and criteria:
            data = _fast_dumps(criteria, self._json_default)
            if data is None:
                raise TypeError("criteria")  # (what orjson refuses)
            fields["criteria"] = made = _fragment(data)
            self._json_ids.put(criteria, made)
        return fields
