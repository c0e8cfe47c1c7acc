"""The loaded rule pack: a typed, immutable intermediate representation (IR).

A :class:`RulePack` is what :func:`~eligibility.pack.loader.load_pack` returns
once every file has been read, validated and checked: the fact schema, dated
parameters, criteria and measures with their parsed, type-checked expressions,
the pack's cases, and the content hash that goes into every Decision's
provenance. Everything here is frozen; a RulePack can be shared freely between
threads and engines.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from eligibility.expr import ast
from eligibility.expr.types import Type
from eligibility.pack.yamlio import Mark


@dataclass(frozen=True)
class Text:
    """A text in bokmål and English, and nynorsk where the rule file gives it."""

    nb: str
    en: str
    nn: str | None = None

    def get(self, lang: str) -> str:
        if lang == "en":
            return self.en
        if lang == "nn" and self.nn:
            return self.nn
        return self.nb


@dataclass(frozen=True)
class Source:
    """A legal or policy source: law, regulation §, guidance page or strategy."""

    ref: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Expr:
    """A parsed and type-checked expression with where it was written."""

    text: str
    node: ast.Node
    type: Type
    mark: Mark

    def slice(self, node: ast.Node) -> str:
        return self.text[node.start : node.end]


@dataclass(frozen=True)
class FieldSpec:
    """One fact of the schema."""

    path: str  # "housing.cost_month" or "members.age"
    group: str
    name: str
    kind: str  # bool int number money enum date string
    title: Text
    unit: str | None = None
    values: tuple[str, ...] | None = None
    minimum: Any = None
    maximum: Any = None
    required: bool = False
    changeable: bool = False
    question: Text | None = None
    in_list: bool = False


@dataclass(frozen=True)
class GroupSpec:
    name: str
    title: Text
    is_list: bool
    fields: MappingProxyType[str, FieldSpec]
    max_items: int | None = None


@dataclass(frozen=True)
class FactSchema:
    """The pack's fact schema: groups of typed fields."""

    groups: MappingProxyType[str, GroupSpec]

    def field(self, path: str) -> FieldSpec | None:
        group, _, name = path.partition(".")
        spec = self.groups.get(group)
        return spec.fields.get(name) if spec else None

    def all_fields(self) -> list[FieldSpec]:
        return [f for g in self.groups.values() for f in g.fields.values()]


@dataclass(frozen=True)
class ParamVersion:
    """One dated value of a parameter.

    ``set`` names the parameter set the value belongs to (the values that really
    applied together, e.g. one amendment of a regulation); ``confirmed_until`` is
    the last date its source confirms it (openfisca's ``last_value_still_valid_on``):
    used after that date the value is *stale*.
    """

    valid_from: date
    value: Any  # int | Decimal | bool | str | table (MappingProxyType) | None (closed)
    source: Source | None = None
    unconfirmed: bool = False
    note: str | None = None
    set: str | None = None
    confirmed_until: date | None = None

    def stale_on(self, when: date) -> bool:
        """Whether the value is used on ``when``, after the last date its source confirms."""
        return self.confirmed_until is not None and when > self.confirmed_until


@dataclass(frozen=True)
class Parameter:
    """A dated parameter: each version holds from its date until the next."""

    name: str
    unit: str | None
    keys: tuple[str, ...]
    versions: tuple[ParamVersion, ...]
    sources: tuple[Source, ...]
    title: Text | None = None
    unconfirmed: bool = False
    note: str | None = None

    def version_at(self, when: date) -> ParamVersion | None:
        dates = [v.valid_from for v in self.versions]
        i = bisect_right(dates, when)
        if i == 0:
            return None
        version = self.versions[i - 1]
        return None if version.value is None else version

    def periods(self) -> list[tuple[ParamVersion, date | None]]:
        """Each version with the last day it holds (``None``: open-ended)."""
        out: list[tuple[ParamVersion, date | None]] = []
        for i, version in enumerate(self.versions):
            nxt = self.versions[i + 1].valid_from if i + 1 < len(self.versions) else None
            out.append((version, nxt - timedelta(days=1) if nxt else None))
        return out


@dataclass(frozen=True)
class Criterion:
    id: str
    title: Text
    expr: Expr
    sources: tuple[Source, ...]
    file: str
    unit: str | None = None
    description: Text | None = None
    unconfirmed: bool = False
    note: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class RuleException:
    """A named exception (``unless:``) that waives a requirement."""

    id: str
    title: Text
    expr: Expr
    sources: tuple[Source, ...]
    unconfirmed: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Requirement:
    id: str
    title: Text
    expr: Expr | None
    exceptions: tuple[RuleException, ...]
    sources: tuple[Source, ...]
    discretionary: bool = False
    description: Text | None = None
    unconfirmed: bool = False
    note: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    def in_force(self, when: date) -> bool:
        return _in_force(self.valid_from, self.valid_to, when)


@dataclass(frozen=True)
class Amount:
    unit: str
    rounding: str
    expr: Expr
    title: Text | None = None
    discretionary: bool = False
    note: str | None = None
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Step:
    """How one named value of a measure (a ``let``, or ``amount``) presents itself.

    The title, unit and sources a calculation shows for the value; ``unit`` is the
    declared unit, else the one the type checker inferred. ``mark`` is where the value
    is written (for ``check``'s warnings).
    """

    name: str
    title: Text | None
    unit: str | None
    sources: tuple[Source, ...]
    mark: Mark
    note: str | None = None


@dataclass(frozen=True)
class PriorityRule:
    expr: Expr
    rank: int
    title: Text | None = None


@dataclass(frozen=True)
class Measure:
    id: str
    title: Text
    goal: str
    kind: str
    sources: tuple[Source, ...]
    lets: tuple[tuple[str, Expr], ...]
    requirements: tuple[Requirement, ...]
    amount: Amount | None
    priority: tuple[PriorityRule, ...]
    file: str
    description: Text | None = None
    advice: Text | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    unconfirmed: bool = False
    note: str | None = None
    #: one per ``let`` (in file order), then ``amount`` when the measure has one
    steps: tuple[Step, ...] = ()
    #: decided one calendar month at a time (periods split at every month start)
    monthly: bool = False

    def in_force(self, when: date) -> bool:
        return _in_force(self.valid_from, self.valid_to, when)

    def step(self, name: str) -> Step | None:
        for s in self.steps:
            if s.name == name:
                return s
        return None


@dataclass(frozen=True)
class Case:
    """An example household with the decision the rules must give."""

    name: str
    file: str
    as_of: date
    facts: dict[str, Any]
    expect_measures: MappingProxyType[str, dict[str, Any]]
    expect_criteria: MappingProxyType[str, Any]
    notes: str | None = None


@dataclass(frozen=True)
class PackMeta:
    id: str
    title: Text
    version: str
    languages: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    goals: MappingProxyType[str, Text]
    sources: tuple[Source, ...]
    jurisdiction: str | None = None
    description: Text | None = None
    #: the vocabulary of fact sources (``{value, source, confirmed}`` in the facts)
    fact_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class RulePack:
    """A whole loaded pack (see module docstring)."""

    root: Path
    meta: PackMeta
    schema: FactSchema
    parameters: MappingProxyType[str, Parameter]
    criteria: tuple[Criterion, ...]
    measures: tuple[Measure, ...]
    content_hash: str
    files: tuple[str, ...] = field(default=())

    @cached_property
    def cases(self) -> tuple[Case, ...]:
        """The pack's ``cases/``, read on first use (``check`` and the test tools; an
        Engine never needs them). :class:`~eligibility.errors.PackError` on problems."""
        from eligibility.pack.loader import load_cases

        return load_cases(self)

    @cached_property
    def invariants(self) -> Any:
        """The pack's ``invariants.yaml`` as read (positions intact), or ``None``; read
        on first use."""
        from eligibility.pack.loader import load_invariants_document

        return load_invariants_document(self)

    def preload(self, cases: tuple[Case, ...], invariants: Any) -> None:
        """Fill :attr:`cases` and :attr:`invariants` from a loader that already read
        them (only :func:`~eligibility.pack.loader.load_pack` with ``full=True``)."""
        self.__dict__["cases"] = cases
        self.__dict__["invariants"] = invariants

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def version(self) -> str:
        return self.meta.version

    def measure(self, measure_id: str) -> Measure:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    def covers(self, when: date) -> bool:
        return _in_force(self.meta.valid_from, self.meta.valid_to, when)


def _in_force(start: date | None, end: date | None, when: date) -> bool:
    return (start is None or start <= when) and (end is None or when <= end)
