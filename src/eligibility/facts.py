"""Validate one household's facts against a pack's fact schema.

:class:`FactValidator` builds a strict pydantic model from the pack's
``facts.yaml`` once (types, enums, ranges, required fields, no unknown keys) and
turns raw input (dict from JSON or YAML) into :class:`ValidFacts`: the facts
flattened to ``"group.field"`` keys for the evaluator, the member list, and a
canonical JSON form whose SHA-256 goes into the Decision's provenance. Every
invalid field is reported at once, by path, with the value seen and what was
expected — never a traceback.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, create_model

from eligibility.errors import FactIssue, FactsError

try:  # optional: the api and test extras install it
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only without the extra
    _orjson = None  # type: ignore[assignment]
from eligibility.pack.model import FactSchema, FieldSpec


@dataclass(frozen=True)
class ValidFacts:
    """Facts that fit the schema: flat values, members, and their canonical hash."""

    flat: dict[str, Any]
    members: list[dict[str, Any]] | None
    data: dict[str, Any]
    sha256: str


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _annotation(spec: FieldSpec) -> Any:
    if spec.kind == "bool":
        return StrictBool
    if spec.kind == "int":
        return int
    if spec.kind in ("number", "money"):
        return Decimal
    if spec.kind == "enum":
        return Literal[tuple(spec.values or ())]
    if spec.kind == "date":
        return date
    return str


def _field(spec: FieldSpec) -> tuple[Any, Any]:
    annotation = _annotation(spec)
    kwargs: dict[str, Any] = {"description": spec.title.en}
    if spec.minimum is not None and spec.kind in ("int", "number", "money"):
        kwargs["ge"] = spec.minimum
    if spec.maximum is not None and spec.kind in ("int", "number", "money"):
        kwargs["le"] = spec.maximum
    if spec.kind in ("number", "money"):
        kwargs["allow_inf_nan"] = False
    if spec.required:
        return annotation, Field(..., **kwargs)
    return annotation | None, Field(None, **kwargs)


def build_facts_model(schema: FactSchema) -> type[BaseModel]:
    """A pydantic model of the whole facts document for ``schema``."""
    groups: dict[str, Any] = {}
    for group in schema.groups.values():
        fields = {name: _field(spec) for name, spec in group.fields.items()}
        model = create_model(  # type: ignore[call-overload]
            f"Facts_{group.name}", __base__=_Group, **fields
        )
        if group.is_list:
            groups[group.name] = (list[model] | None,
                                  Field(None, max_length=group.max_items or 100))
        else:
            groups[group.name] = (model | None, None)
    facts_model: type[BaseModel] = create_model(
        "Facts", __base__=_Group, **groups
    )
    return facts_model


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(facts)"


def _did_you_mean(schema: FactSchema, loc: tuple[Any, ...]) -> str:
    """``"; did you mean 'x'?"`` for a misspelt group or fact name, else ``""``."""
    names = [p for p in loc if isinstance(p, str)]
    if len(names) == 1:
        options = list(schema.groups)
    elif len(names) >= 2 and names[0] in schema.groups:
        options = list(schema.groups[names[0]].fields)
    else:
        return ""
    close = difflib.get_close_matches(names[-1], options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _expected(schema: FactSchema, loc: tuple[Any, ...]) -> str | None:
    names = [p for p in loc if isinstance(p, str)]
    if len(names) < 2:
        return None
    spec = schema.field(f"{names[0]}.{names[1]}")
    if spec is None:
        return None
    if spec.kind == "enum":
        return "one of " + ", ".join(spec.values or ())
    text = {"bool": "true or false", "int": "a whole number", "number": "a number",
            "money": "an amount", "date": "a date YYYY-MM-DD", "string": "text"}[spec.kind]
    if spec.unit:
        text += f" in {spec.unit}"
    if spec.minimum is not None or spec.maximum is not None:
        text += f" between {spec.minimum if spec.minimum is not None else '-∞'} and " \
                f"{spec.maximum if spec.maximum is not None else '∞'}"
    return text


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, exact decimals as strings, ISO dates."""

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return str(obj.normalize()) if obj == obj.to_integral_value() else str(obj)
        if isinstance(obj, date):
            return obj.isoformat()
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=default,
                      ensure_ascii=False)


def _canonical_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj.normalize()) if obj == obj.to_integral_value() else str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def canonical_bytes(value: Any) -> bytes:
    """:func:`canonical_json` as UTF-8 bytes; with orjson when it is installed (the
    same bytes, faster), else the standard library."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, default=_canonical_default,
                                 option=_orjson.OPT_SORT_KEYS)
        except (_orjson.JSONEncodeError, TypeError):
            pass  # e.g. an integer beyond 64 bits
    return canonical_json(value).encode()


class FactValidator:
    """Validates facts documents against one schema (build once, use many times)."""

    def __init__(self, schema: FactSchema) -> None:
        self.schema = schema
        self.model = build_facts_model(schema)
        self.list_group = next((g.name for g in schema.groups.values() if g.is_list), None)

    def validate(self, raw: Any) -> ValidFacts:
        if not isinstance(raw, dict):
            raise FactsError([FactIssue("(facts)", "the facts must be a mapping of groups",
                                        type(raw).__name__, "an object")])
        try:
            model = self.model.model_validate(raw)
        except ValidationError as exc:
            issues = []
            for err in exc.errors():
                loc = tuple(err.get("loc", ()))
                message = err.get("msg", "invalid")
                if err.get("type") == "extra_forbidden":
                    message = "not a fact of this pack's schema" + _did_you_mean(self.schema,
                                                                                 loc)
                issues.append(FactIssue(_path(loc), message, err.get("input")
                                        if err.get("type") != "missing" else None,
                                        _expected(self.schema, loc)))
            raise FactsError(issues) from None
        # read the validated model directly: no model_dump round trip
        data: dict[str, Any] = {}
        flat: dict[str, Any] = {}
        members: list[dict[str, Any]] | None = None
        for group, value in model.__dict__.items():
            if value is None:
                continue
            if group == self.list_group:
                members = data[group] = [
                    {k: v for k, v in m.__dict__.items() if v is not None} for m in value]
                continue
            values = data[group] = {k: v for k, v in value.__dict__.items() if v is not None}
            for name, v in values.items():
                flat[f"{group}.{name}"] = v
        digest = hashlib.sha256(canonical_bytes(data)).hexdigest()
        return ValidFacts(flat, members, data, digest)
