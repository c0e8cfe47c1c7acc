"""The Decision: what the engine says about one household (pydantic, JSON-stable).

A Decision lists every measure in force with its ``status`` (``eligible``,
``not_eligible`` or ``undetermined``), its amount where the law gives one, the
reasons (one per requirement, with the values seen, the legal source and a
rendered message), the missing facts that matter, the discretionary assessments a
caseworker must make, and the provenance that makes it reproducible: pack id,
version and content hash, ``as_of``, engine version and the facts' hash. Field
names here are a public contract for integrators: keep them stable. The engine makes
these models from fields it built itself with :func:`construct`, without validating
them again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["eligible", "not_eligible", "undetermined"]
Outcome = Literal["met", "not_met", "waived", "unknown", "discretionary"]
STATUSES: tuple[Status, ...] = ("eligible", "undetermined", "not_eligible")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


def field_template(cls: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (every field of ``cls``, in its order) as a dict whose copies share one
    key table with every instance of ``cls`` (CPython's split dicts: about half the
    memory of a plain dict). The engine builds models from copies of such templates
    without validation (:func:`construct`); the copies
    compare, serialise and behave as plain dicts."""
    probe = cls.__new__(cls)
    for name, value in values.items():
        object.__setattr__(probe, name, value)
    return probe.__dict__


class SourceRef(_Out):
    """A legal or policy source."""

    ref: str
    url: str | None = None


class Reason(_Out):
    """The outcome of one requirement of a measure."""

    requirement: str
    title: str
    outcome: Outcome
    exception: str | None = None
    exception_title: str | None = None
    values: dict[str, Any] = {}
    missing_facts: list[str] = []
    sources: list[SourceRef] = []
    message_key: str
    message: str
    discretionary: bool = False
    unconfirmed: bool = False
    note: str | None = None


class ParameterUsed(_Out):
    """A parameter a calculation step looked up, with the dated version that applied."""

    name: str
    title: str | None = None
    keys: list[Any] = []
    value: Any = None
    unit: str | None = None
    valid_from: date | None = None
    source: SourceRef | None = None
    unconfirmed: bool = False


class CalculationStep(_Out):
    """One step of an amount's calculation (``MeasureResult.calculation``).

    ``value`` is exact (``null`` while facts are missing: see ``waiting_for``);
    ``expression`` is the rule as written, ``with_values`` the same expression with the
    values it used. The ``amount`` step's ``value`` is rounded as the rule declares
    (``rounding``), ``exact`` is the value before rounding.
    """

    name: str
    kind: Literal["criterion", "let", "amount"]
    title: str | None = None
    expression: str
    with_values: str
    value: bool | int | Decimal | str | date | None = None
    known: bool = True
    unit: str | None = None
    waiting_for: list[str] = []
    parameters: list[ParameterUsed] = []
    sources: list[SourceRef] = []
    rounding: str | None = None
    exact: Decimal | None = None


class MeasureResult(_Out):
    """One measure's result for the household."""

    id: str
    title: str
    goal: str
    goal_title: str
    kind: Literal["right", "recommendation"]
    status: Status
    summary: str
    amount: Decimal | None = None
    unit: str | None = None
    amount_discretionary: bool = False
    priority: int | None = None
    priority_reason: str | None = None
    reasons: list[Reason]
    missing_facts: list[str] = []
    discretionary: list[str] = []
    sources: list[SourceRef] = []
    unconfirmed: list[str] = []
    advice: str | None = None
    #: the steps of the amount, in the order the regulation reads (full detail only)
    calculation: list[CalculationStep] | None = None


class CriterionResult(_Out):
    """A derived fact (e.g. a priority group) and its value; ``null`` when unknown."""

    id: str
    title: str
    value: bool | int | Decimal | str | date | None
    known: bool
    missing_facts: list[str] = []
    unconfirmed: bool = False


class MissingFact(_Out):
    """A fact the household did not give that would settle one or more measures."""

    path: str
    question: str
    affects: list[str]


class ConfirmFact(_Out):
    """A fact given with a source but not confirmed, that measures in the decision read:
    confirm it before deciding (distinct from a missing fact)."""

    path: str
    source: str | None = None
    value: Any = None
    affects: list[str]


class Provenance(_Out):
    """Everything needed to reproduce the decision byte for byte."""

    pack_id: str
    pack_version: str
    content_hash: str
    as_of: date
    engine_version: str
    facts_sha256: str


class Decision(_Out):
    """The engine's answer for one household (see module docstring)."""

    lang: Literal["nb", "nn", "en"]
    as_of: date
    measures: list[MeasureResult]
    criteria: list[CriterionResult]
    missing_facts: list[MissingFact]
    provenance: Provenance
    #: Filled only on request (``eligibility evaluate --why-not``): for each measure not
    #: granted, the failed requirements and the fact values that would flip them (the
    #: ``measures`` of :class:`eligibility.explain.whynot.WhyNotResult`).
    why_not: list[dict[str, Any]] | None = None
    #: Only when the facts were given with sources (``{value, source, confirmed}``): the
    #: unconfirmed facts the measures read, to confirm before deciding. Left out of the
    #: JSON when absent, so plain-value input gives the same bytes as before.
    confirm_before_deciding: list[ConfirmFact] | None = Field(
        None, exclude_if=lambda v: v is None)

    def measure(self, measure_id: str) -> MeasureResult:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    def criterion(self, criterion_id: str) -> CriterionResult:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


M = TypeVar("M", bound=BaseModel)
#: the slots every pydantic model has, set through their descriptors (faster than
#: ``object.__setattr__``, which looks each one up by name)
_SET_DICT = BaseModel.__dict__["__dict__"].__set__
_SET_FIELDS = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__
#: ``object.__new__`` itself (``cls.__new__`` finds the same through the model
#: metaclass, ~100 ns slower)
_NEW = object.__new__
#: the field names of each model of the contract, one set per class that every instance
#: :func:`construct` makes shares (pydantic copies it before changing it); never written
#: after import (a plain dict: its look-up is half a MappingProxyType's)
_FIELDS_SET: dict[type[BaseModel], set[str]] = {
    cls: set(cls.model_fields) for cls in (
        Decision, MeasureResult, Reason, CriterionResult, MissingFact, Provenance, SourceRef,
        CalculationStep, ParameterUsed, ConfirmFact)}


def construct(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of ``cls`` from ``values`` holding *every* field, without validation.

    For values the engine built itself, with the contract's types already (the decision
    builder and the calculation views); the result serialises exactly as a validated
    instance would."""
    obj: M = _NEW(cls)
    _SET_DICT(obj, values)
    _SET_FIELDS(obj, _FIELDS_SET.get(cls) or set(cls.model_fields))
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, None)
    return obj
