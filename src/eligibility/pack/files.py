"""Pydantic models of the rule files as written (the YAML layer).

These models say which keys each file may hold and what type each value has;
unknown keys are errors. They keep expression strings as read (with their
positions) — the loader parses and checks them afterwards and builds the
immutable IR in :mod:`eligibility.pack.model`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PlainValidator, Tag


def _expr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("expected an expression (text)")
    return value  # a LocStr keeps its position


ExprText = Annotated[str, PlainValidator(_expr_text)]


def _plain_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


PlainText = Annotated[str, PlainValidator(_plain_text)]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextModel(_File):
    nb: PlainText
    nn: PlainText | None = None
    en: PlainText


class SourceModel(_File):
    ref: PlainText
    url: PlainText | None = None
    note: PlainText | None = None


class _Cited(_File):
    """Keys of everything that cites its source and may be unconfirmed."""

    source: SourceModel | None = None
    sources: list[SourceModel] | None = None
    unconfirmed: bool = False
    note: PlainText | None = None


class _Dated(_File):
    """Keys of everything that applies only between two dates."""

    valid_from: date | None = None
    valid_to: date | None = None


class PackFile(_File):
    id: PlainText
    title: TextModel
    description: TextModel | None = None
    version: PlainText
    jurisdiction: PlainText | None = None
    languages: list[PlainText] = Field(default_factory=lambda: ["nb", "en"])
    valid_from: date
    valid_to: date | None = None
    goals: dict[str, TextModel]
    sources: list[SourceModel] = Field(min_length=1)
    #: where a fact may come from (``{value, source, confirmed}`` in the facts)
    fact_sources: list[PlainText] = Field(default_factory=list)


FieldType = Literal["bool", "int", "number", "money", "enum", "date", "string"]


class FieldModel(_File):
    type: FieldType
    title: TextModel
    unit: PlainText | None = None
    values: list[PlainText] | None = None
    value_titles: dict[str, TextModel] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    required: bool = False
    changeable: bool = False
    question: TextModel | None = None
    description: TextModel | None = None
    source: SourceModel | None = None
    unconfirmed: bool = False
    note: PlainText | None = None


class GroupModel(_File):
    title: TextModel
    description: TextModel | None = None
    list: bool = False
    max_items: int | None = None
    fields: dict[str, FieldModel]


class FactsFile(_File):
    groups: dict[str, GroupModel]


class ParamVersionModel(_File):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    value: Any
    source: SourceModel | None = None
    unconfirmed: bool = False
    note: PlainText | None = None
    set_: PlainText | None = Field(default=None, alias="set")
    confirmed_until: date | None = None


class ParamModel(_Cited):
    title: TextModel | None = None
    description: TextModel | None = None
    unit: PlainText | None = None
    keys: list[PlainText] = Field(default_factory=list, max_length=2)
    values: dict[date, Any] = Field(min_length=1)


class CriterionModel(_Cited, _Dated):
    title: TextModel
    description: TextModel | None = None
    value: ExprText
    unit: PlainText | None = None


class ExceptionModel(_Cited):
    title: TextModel
    when: ExprText


class RequirementModel(_Cited, _Dated):
    title: TextModel
    description: TextModel | None = None
    when: ExprText | None = None
    unless: dict[str, ExceptionModel] = Field(default_factory=dict)
    discretionary: bool = False


class StepModel(_File):
    """A ``let:`` value written with its presentation (the short form is the bare expression).

    ``title`` names the step in a Decision's ``calculation``, ``unit`` states what it is
    measured in, ``source``/``sources`` cite the paragraph it computes.
    """

    value: ExprText
    title: TextModel | None = None
    unit: PlainText | None = None
    source: SourceModel | None = None
    sources: list[SourceModel] | None = None
    note: PlainText | None = None


#: the tags of the two forms of a ``let:`` entry (validation errors name them after the let)
LET_FORMS = ("expr", "step")


def _let_form(value: Any) -> str:
    return LET_FORMS[1] if isinstance(value, dict) else LET_FORMS[0]


#: a ``let:`` entry: an expression, or a mapping with ``value:`` and its title, unit, source
LetEntry = Annotated[
    Annotated[ExprText, Tag(LET_FORMS[0])] | Annotated[StepModel, Tag(LET_FORMS[1])],
    Discriminator(_let_form),
]


class AmountModel(_File):
    title: TextModel | None = None
    unit: PlainText
    rounding: Literal["krone", "krone_down", "ore", "none"] = "krone"
    formula: ExprText
    discretionary: bool = False
    source: SourceModel | None = None
    sources: list[SourceModel] | None = None
    note: PlainText | None = None


class PriorityModel(_File):
    when: ExprText
    rank: int = Field(ge=1)
    title: TextModel | None = None


class MeasureModel(_Dated):
    id: PlainText
    title: TextModel
    description: TextModel | None = None
    advice: TextModel | None = None
    goal: PlainText
    kind: Literal["right", "recommendation"]
    sources: list[SourceModel] = Field(min_length=1)
    let: dict[str, LetEntry] = Field(default_factory=dict)
    requires: dict[str, RequirementModel] = Field(min_length=1)
    amount: AmountModel | None = None
    priority: list[PriorityModel] = Field(default_factory=list)
    unconfirmed: bool = False
    note: PlainText | None = None
    #: decided one calendar month at a time (periods split at every month start)
    monthly: bool = False


class ExpectMeasure(_File):
    status: Literal["eligible", "not_eligible", "undetermined"] | None = None
    amount: Decimal | None = None
    missing_facts: list[PlainText] | None = None
    priority: int | None = None
    #: hand-worked values of the amount's calculation steps, by step name (a ``let`` name,
    #: ``criteria.<id>`` or ``amount``); the engine's steps must agree to the øre
    steps: dict[PlainText, Decimal] | None = None


class ExpectModel(_File):
    measures: dict[str, ExpectMeasure] = Field(default_factory=dict)
    criteria: dict[str, Any] = Field(default_factory=dict)


class CaseModel(_File):
    name: PlainText
    description: PlainText | None = None
    as_of: date
    facts: dict[str, Any]
    expect: ExpectModel
    notes: PlainText | None = None
