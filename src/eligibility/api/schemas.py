"""Request and response bodies of the HTTP API (pydantic models).

These models are the wire contract documented in ``/openapi.json``: the
evaluation request (facts, date, language, optional pinned pack hash), the batch
request and its per-item results, pack metadata, parameters at a date, health
and readiness. The Decision itself is the engine's
:class:`~eligibility.decision.Decision`, unchanged. Builders here turn a loaded
pack into its wire form; they do no evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from eligibility.api.problems import Problem
from eligibility.api.registry import HASH_PATTERN
from eligibility.decision import Decision, SourceRef
from eligibility.limits import MAX_PERIOD_DAYS, MAX_PERIODS
from eligibility.pack.model import RulePack, Source, Text

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_text(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
Lang = Literal["nb", "nn", "en"]
PackHash = Annotated[str, Field(
    pattern=HASH_PATTERN,
    description="Pin the pack: the request is refused with 409 unless the server's pack "
    "has exactly this content hash (64 hex digits, optionally after `sha256:`).")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class EvaluateRequest(_In):
    """One household to evaluate."""

    facts: dict[str, Any] = Field(
        description="The household's facts; their JSON Schema is at "
        "`GET /v1/packs/{pack_id}/schema`. Missing facts are allowed: the decision "
        "then says which ones matter.")
    as_of: IsoDate | None = Field(
        None, description="The date the law is read at, YYYY-MM-DD (default: today).")
    lang: Lang = Field("nb", description="Language of texts in the decision.")
    pack_hash: PackHash | None = None
    start: IsoDate | None = Field(
        None, alias="from", description="With `to`: decide the period from this date; the "
        "answer is then the periods (docs/periods.md), one per sub-period. A date outside "
        "the pack's period is a 422 naming `from`.")
    end: IsoDate | None = Field(
        None, alias="to", description="Last day of the period (included). A period is at "
        f"most {MAX_PERIOD_DAYS} days long and splits into at most {MAX_PERIODS} "
        "sub-periods; a longer one, or one ending before `from`, is a 422 naming `to`.")
    monthly: bool = Field(False, description="With `from`/`to`: also split at every month "
                          "start for the measures decided month by month (bostøtte).")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WhatIfRequest(EvaluateRequest):
    """One household and the changes to try on it; with `from`/`to`, over a period (one
    comparison per sub-period)."""

    changes: dict[str, Any] = Field(
        description="New values by fact path, e.g. `{\"economy.income_month\": 20000, "
        "\"members[1].age\": 18}`; strings are read by the fact's type.")
    name: str | None = Field(None, max_length=200, description="A label for the variant.")


class WhyNotRequest(EvaluateRequest):
    """One household; explain the measures it does not get, on one date (`as_of`):
    `from`, `to` and `monthly` are refused with a 422 naming the field."""

    measure_id: str | None = Field(
        None, description="Explain only this measure (default: every measure not eligible).")


class BatchRequest(_In):
    """Several households; each item is checked on its own."""

    items: list[Any] = Field(description="Evaluation requests (same shape as a single "
                                         "evaluation). A bad item gets a problem; the "
                                         "others are still evaluated.")
    pack_hash: PackHash | None = None


class PackRef(_Out):
    """Exactly which rules answered."""

    pack_id: str
    pack_version: str
    content_hash: str


class BatchResult(_Out):
    """The result of one batch item: a decision, or a problem."""

    index: int
    ok: bool
    decision: Decision | None = None
    problem: Problem | None = None


class BatchResponse(PackRef):
    """Per-item results, in the order of the request's items."""

    results: list[BatchResult]


class LocalText(_Out):
    nb: str
    en: str


class MeasureInfo(_Out):
    id: str
    title: LocalText
    goal: str
    kind: str
    valid_from: date | None = None
    valid_to: date | None = None


class PackInfo(PackRef):
    """A pack's metadata."""

    title: LocalText
    jurisdiction: str | None = None
    languages: list[str]
    valid_from: date
    valid_to: date | None = None
    goals: dict[str, LocalText]
    measures: list[MeasureInfo]
    engine_version: str


class PackList(_Out):
    packs: list[PackInfo]


class ParameterValue(_Out):
    """One parameter's value on the requested date (``null`` when none applies)."""

    title: LocalText | None = None
    unit: str | None = None
    keys: list[str] = []
    value: Any = Field(None, description="A whole number, an exact decimal as a "
                                         "string, a boolean, a text, or a table keyed by "
                                         "`keys`.")
    valid_from: date | None = Field(None, description="When this value took effect.")
    unconfirmed: bool = False
    sources: list[SourceRef] = []
    note: str | None = None
    parameter_set: str | None = Field(None, description="The parameter set this value "
                                      "belongs to (`set:` in the pack).")
    confirmed_until: date | None = Field(None, description="The last date the value's "
                                         "source confirms it.")
    stale: bool = Field(False, description="The value is used after `confirmed_until`.")


class ParametersResponse(PackRef):
    as_of: date
    parameters: dict[str, ParameterValue]


class Health(_Out):
    status: Literal["ok"]
    engine_version: str


class Readiness(_Out):
    status: Literal["ready"]
    packs: list[PackRef]


def local(text: Text) -> LocalText:
    return LocalText(nb=text.nb, en=text.en)


def pack_ref(pack: RulePack) -> PackRef:
    return PackRef(pack_id=pack.meta.id, pack_version=pack.meta.version,
                   content_hash=pack.content_hash)


def pack_info(pack: RulePack, engine_version: str) -> PackInfo:
    meta = pack.meta
    return PackInfo(
        pack_id=meta.id, pack_version=meta.version, content_hash=pack.content_hash,
        title=local(meta.title), jurisdiction=meta.jurisdiction,
        languages=list(meta.languages), valid_from=meta.valid_from, valid_to=meta.valid_to,
        goals={k: local(v) for k, v in meta.goals.items()},
        measures=[MeasureInfo(id=m.id, title=local(m.title), goal=m.goal, kind=m.kind,
                              valid_from=m.valid_from, valid_to=m.valid_to)
                  for m in pack.measures],
        engine_version=engine_version,
    )


def wire_value(value: Any) -> Any:
    """A parameter value as JSON: exact decimals as text, tables as objects."""
    if isinstance(value, Mapping):
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire_value(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sources(sources: tuple[Source, ...]) -> list[SourceRef]:
    return [SourceRef(ref=s.ref, url=s.url) for s in sources]


def parameters_at(pack: RulePack, as_of: date) -> ParametersResponse:
    out: dict[str, ParameterValue] = {}
    for name, param in pack.parameters.items():
        version = param.version_at(as_of)
        sources = _sources(param.sources)
        if version is not None and version.source is not None:
            sources = [SourceRef(ref=version.source.ref, url=version.source.url)]
        out[name] = ParameterValue(
            title=local(param.title) if param.title else None,
            unit=param.unit,
            keys=list(param.keys),
            value=wire_value(version.value) if version else None,
            valid_from=version.valid_from if version else None,
            unconfirmed=param.unconfirmed or bool(version and version.unconfirmed),
            sources=sources,
            note=(version.note if version and version.note else param.note),
            parameter_set=version.set if version else None,
            confirmed_until=version.confirmed_until if version else None,
            stale=bool(version and version.stale_on(as_of)),
        )
    ref = pack_ref(pack)
    return ParametersResponse(pack_id=ref.pack_id, pack_version=ref.pack_version,
                              content_hash=ref.content_hash, as_of=as_of, parameters=out)
