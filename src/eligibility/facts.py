"""Validate one household's facts against a pack's fact schema.

:class:`FactValidator` builds a strict pydantic model from the pack's
``facts.yaml`` once (types, enums, ranges, required fields, no unknown keys) and
turns raw input (dict from JSON or YAML) into :class:`ValidFacts`: the facts
flattened to ``"group.field"`` keys for the evaluator, the member list, and a
canonical JSON form whose SHA-256 goes into the Decision's provenance. Every
invalid field is reported at once, by path, with the value seen and what was
expected — never a traceback.

Before pydantic sees a document, :func:`check_shape` walks it once, iteratively,
and refuses what would be expensive to validate or to compute with (the limits of
:mod:`eligibility.limits`): nesting, object and member-list sizes, string length,
and the digits and exponent of every number — including numbers still written as
text in a numeric field (``"9e999999"`` is refused, never expanded). Only
:class:`~eligibility.errors.FactsError` leaves this module for bad input.

:meth:`FactValidator.quick` is a fast path for the common document: plain groups of
present values (no ``null``) that pass. The usual one — every value exactly a JSON
bool, an int within its field's bounds, one of an enum's values, or in a number field a
finite decimal (or float, as pydantic reads it) within its bounds and the digit limit, as
a JSON body, a YAML file or a generated frame gives it — is read in one pass that builds
the groups, the flat facts and the canonical form at once (:meth:`FactValidator._exact`):
each group kind by kind, into copies of its fields and of every flat key made in the
schema's order, so that nothing asks a field for its kind and no dict grows key by key
(a fact not given is taken out).
Any other it validates with a second pydantic schema of the same fields, as typed dicts,
which gives the facts as plain dicts in schema order and only those present (instead of
one model object per group whose every field is then read back). Both take less than the
model, never more: anything they do not take — an error, a ``null``, a number beyond the limits —
answers ``None`` and takes the full path, which gives the same ValidFacts or names the
errors. The quick path writes the canonical JSON from a copy of the facts whose
decimals are their canonical text already (one orjson call, no callback per decimal):
the same bytes as :func:`canonical_json`, so the same hash.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from math import isfinite as _isfinite
from typing import Annotated, Any, Literal, NamedTuple, NotRequired, Required

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    create_model,
    with_config,
)
from typing_extensions import TypedDict

from eligibility.errors import FactIssue, FactsError
from eligibility.fastjson import dumps as _fast_dumps
from eligibility.fastjson import sorted_dumps as _sorted_dumps
from eligibility.limits import (
    DEFAULT_MAX_MEMBERS,
    MAX_FACTS_DEPTH,
    MAX_NUMBER_DIGITS,
    MAX_NUMBER_EXPONENT,
    MAX_OBJECT_KEYS,
    MAX_STRING_LENGTH,
    MAX_YAML_NODES,
)
from eligibility.pack.model import FactSchema, FieldSpec, GroupSpec
from eligibility.pack.yamlio import number_problem, number_text_problem

_NUMERIC = frozenset({"int", "number", "money"})


class ValidFacts(NamedTuple):
    """Facts that fit the schema: flat values, members, and their canonical hash."""

    flat: dict[str, Any]
    members: list[dict[str, Any]] | None
    data: dict[str, Any]
    sha256: str


#: ``ValidFacts(...)`` as the tuple it is, without the named tuple's Python-level
#: ``__new__`` (the quick path makes one on every call)
_valid_facts: Callable[[type[ValidFacts], tuple[Any, ...]], ValidFacts] = tuple.__new__
_sha256 = hashlib.sha256


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
    annotation, kwargs = _field_parts(spec)
    if spec.required:
        return annotation, Field(..., **kwargs)
    return annotation | None, Field(None, **kwargs)


def _field_parts(spec: FieldSpec) -> tuple[Any, dict[str, Any]]:
    """A field's type and its constraints (for the model and for :meth:`FactValidator.quick`)."""
    annotation = _annotation(spec)
    kwargs: dict[str, Any] = {"description": spec.title.en}
    if spec.kind in _NUMERIC:
        # the schema's bounds, else the engine's number limit (so the JSON Schema says it)
        bound = 10 ** MAX_NUMBER_EXPONENT
        kwargs["ge"] = spec.minimum if spec.minimum is not None else -bound
        kwargs["le"] = spec.maximum if spec.maximum is not None else bound
    elif spec.kind == "string":
        kwargs["max_length"] = MAX_STRING_LENGTH
    if spec.kind in ("number", "money"):
        kwargs["allow_inf_nan"] = False
        kwargs["json_schema_extra"] = _numeric_text_schema(spec)
    return annotation, kwargs


def _numeric_text_schema(spec: FieldSpec) -> Callable[[dict[str, Any]], None]:
    """A JSON Schema pattern for a number written as text (``"12500.50"``) that keeps
    inside the field's bounds: no sign when it cannot be negative, and fewer digits
    than its maximum has."""
    digits = MAX_NUMBER_EXPONENT
    if spec.maximum is not None and spec.maximum >= 10:
        digits = min(digits, len(str(int(spec.maximum))) - 1)
    elif spec.maximum is not None:
        digits = 0
    sign = "" if spec.minimum is not None and spec.minimum >= 0 else "-?"
    pattern = f"^{sign}[0-9]{{1,{digits}}}(\\.[0-9]{{1,10}})?$" if digits else None
    positive_only = spec.minimum is not None and spec.minimum > 0

    def extra(field_schema: dict[str, Any]) -> None:
        branches = field_schema.get("anyOf")
        if not isinstance(branches, list):
            return
        kept = []
        for branch in branches:
            if branch.get("type") == "string":
                if pattern is None or positive_only:
                    continue  # text is still read, but not promised here
                branch["pattern"] = pattern
            kept.append(branch)
        field_schema["anyOf"] = kept

    return extra


def build_facts_model(schema: FactSchema) -> type[BaseModel]:
    """A pydantic model of the whole facts document for ``schema``."""
    groups: dict[str, Any] = {}
    for group in schema.groups.values():
        fields = {name: _field(spec) for name, spec in group.fields.items()}
        model = create_model(  # type: ignore[call-overload]
            f"Facts_{group.name}", __base__=_Group, **fields
        )
        if group.is_list:
            # a household has at least one member (an empty list is not "unknown")
            groups[group.name] = (list[model] | None,
                                  Field(None, min_length=1,
                                        max_length=group.max_items or DEFAULT_MAX_MEMBERS))
        else:
            groups[group.name] = (model | None, None)
    facts_model: type[BaseModel] = create_model(
        "Facts", __base__=_Group, **groups
    )
    return facts_model


def build_quick_adapter(schema: FactSchema) -> TypeAdapter[Any]:
    """The facts document for ``schema`` as typed dicts with the model's field types and
    constraints, where nothing may be ``null`` (see :meth:`FactValidator.quick`).

    It takes less than the model, never more: an int field only an int (no bool, float
    or text to convert) within the number limits, and a number field given an int
    within them keeps the int (pydantic's decimal bounds are slow to check; the quick
    path makes the Decimal); any other number goes through the model's decimal type."""
    groups: dict[str, Any] = {}
    for group in schema.groups.values():
        fields = {}
        for name, spec in group.fields.items():
            typed = _quick_type(spec)
            fields[name] = Required[typed] if spec.required else NotRequired[typed]
        item = _typed_dict(f"Quick_{group.name}", fields)
        if group.is_list:
            groups[group.name] = NotRequired[Annotated[
                list[item], Field(min_length=1,  # type: ignore[valid-type]
                                  max_length=group.max_items or DEFAULT_MAX_MEMBERS)]]
        else:
            groups[group.name] = NotRequired[item]
    return TypeAdapter(_typed_dict("QuickFacts", groups))


def _quick_type(spec: FieldSpec) -> Any:
    """One field's type in the quick schema (see :func:`build_quick_adapter`)."""
    annotation, kwargs = _field_parts(spec)
    typed = Annotated[annotation, Field(**kwargs)]  # type: ignore[valid-type]
    if spec.kind not in _NUMERIC:
        return typed
    # the ints the field takes, and only those within the number limits (10**20 has 67
    # bits: check_shape takes it), so that an int given needs no look of check_shape's
    bound = 10 ** MAX_NUMBER_EXPONENT
    exact = Annotated[int, Field(strict=True, ge=max(math.ceil(kwargs["ge"]), -bound),
                                 le=min(math.floor(kwargs["le"]), bound))]
    if spec.kind == "int":
        return exact
    return Annotated[exact | typed, Field(union_mode="left_to_right")]


def _typed_dict(name: str, fields: dict[str, Any]) -> Any:
    """A TypedDict class made at run time, refusing keys it does not name."""
    make: Any = TypedDict  # (the functional form, with names known only now)
    return with_config(ConfigDict(extra="forbid"))(make(name, fields))


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


def _decimal_text(value: Decimal) -> str:
    """A decimal as the canonical JSON writes it: a whole number normalised, any other
    as it is."""
    return str(value.normalize()) if value == value.to_integral_value() else str(value)


def _canonical_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return _decimal_text(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def canonical_bytes(value: Any) -> bytes:
    """:func:`canonical_json` as UTF-8 bytes; with orjson when it is installed (the
    same bytes, faster), else the standard library."""
    fast = _fast_dumps(value, _canonical_default, sort_keys=True)
    return fast if fast is not None else canonical_json(value).encode()


def _kind_at(schema: FactSchema | None, path: tuple[Any, ...]) -> str | None:
    """The kind of the schema field at ``path`` (``(group, field)`` or
    ``(members, i, field)``), if there is one."""
    if schema is None or not path or not isinstance(path[0], str):
        return None
    group = schema.groups.get(path[0])
    if group is None:
        return None
    rest = path[1:]
    if group.is_list:
        if len(rest) != 2 or not isinstance(rest[0], int):
            return None
        rest = rest[1:]
    if len(rest) != 1 or not isinstance(rest[0], str):
        return None
    spec = group.fields.get(rest[0])
    return spec.kind if spec is not None else None


def _is_unicode(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_shape(raw: Any, schema: FactSchema | None = None,
                path: tuple[Any, ...] = ()) -> None:
    """Refuse a facts document (or a part of one at ``path``) that is over the limits.

    One iterative pass, cheap for any input: depth, keys per object, list lengths,
    string lengths, number digits and exponents (also of numbers written as text in a
    numeric field of ``schema``). Raises :class:`FactsError` naming each bad path.
    """
    max_list = DEFAULT_MAX_MEMBERS
    if schema is not None:
        max_list = max((g.max_items or DEFAULT_MAX_MEMBERS for g in schema.groups.values()
                        if g.is_list), default=DEFAULT_MAX_MEMBERS)
    issues: list[FactIssue] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(raw, path)]
    seen = 0
    while stack and len(issues) < 20:
        value, where = stack.pop()
        seen += 1
        if seen > MAX_YAML_NODES:
            issues.append(FactIssue(_path(path), f"the document holds more than "
                                                 f"{MAX_YAML_NODES} values"))
            break
        depth = len(where)
        if isinstance(value, dict):
            if depth >= MAX_FACTS_DEPTH:
                issues.append(FactIssue(_path(where), f"nested deeper than {MAX_FACTS_DEPTH} "
                                                      "levels"))
                continue
            if len(value) > MAX_OBJECT_KEYS:
                issues.append(FactIssue(_path(where), f"an object may have at most "
                                                      f"{MAX_OBJECT_KEYS} keys, got {len(value)}"))
                continue
            for key, item in value.items():
                if not isinstance(key, str):
                    issues.append(FactIssue(_path(where), "every key must be text",
                                            type(key).__name__))
                    continue
                if len(key) > 100 or not _is_unicode(key):
                    issues.append(FactIssue(_path(where), "a key must be valid text of at "
                                                          "most 100 characters",
                                            key.encode("utf-8", "replace").decode()))
                    continue
                stack.append((item, (*where, key)))
        elif isinstance(value, list | tuple):
            if depth >= MAX_FACTS_DEPTH:
                issues.append(FactIssue(_path(where), f"nested deeper than {MAX_FACTS_DEPTH} "
                                                      "levels"))
                continue
            if len(value) > max_list:
                issues.append(FactIssue(_path(where), f"a list may have at most {max_list} "
                                                      f"items, got {len(value)}"))
                continue
            stack.extend((item, (*where, i)) for i, item in enumerate(value))
        elif isinstance(value, str):
            if not _is_unicode(value):
                issues.append(FactIssue(_path(where), "the text is not valid Unicode "
                                                      "(it holds a lone surrogate)"))
            elif len(value) > MAX_STRING_LENGTH:
                issues.append(FactIssue(_path(where), f"text may have at most "
                                                      f"{MAX_STRING_LENGTH} characters, got "
                                                      f"{len(value)}"))
            elif _kind_at(schema, where) in _NUMERIC:
                problem = number_text_problem(value)
                if problem:
                    issues.append(FactIssue(_path(where), problem, value))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | Decimal):
            problem = number_problem(value)
            if problem:
                issues.append(FactIssue(_path(where), problem, value))
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                issues.append(FactIssue(_path(where), "not a finite number", value))
            else:
                problem = number_problem(Decimal(repr(value)))
                if problem:
                    issues.append(FactIssue(_path(where), problem, value))
    if issues:
        raise FactsError(issues)


def _leaf_problem(value: Any, kind: str) -> bool:
    """Whether :func:`check_shape` refuses one field value (as it looks at a leaf)."""
    if isinstance(value, str):
        return not _is_unicode(value) or len(value) > MAX_STRING_LENGTH or (
            kind in _NUMERIC and number_text_problem(value) is not None)
    if isinstance(value, bool):
        return False
    if isinstance(value, int | Decimal):
        return number_problem(value) is not None
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf")) or number_problem(
            Decimal(repr(value))) is not None
    return False


def _plain_leaf(value: Any, kind: str | None) -> bool:
    """Whether one field value is certainly within the limits (the common case)."""
    cls = type(value)
    if value is None or cls is bool:
        return True
    if cls is int:
        return bool(value.bit_length() <= 66)  # < 10^20
    if cls is str:
        if kind in _NUMERIC:  # a number as text: short, and no exponent to expand
            return len(value) <= MAX_NUMBER_DIGITS and value.isascii() \
                and "e" not in value and "E" not in value
        return len(value) <= MAX_STRING_LENGTH and value.isascii()
    if cls is Decimal:
        return number_problem(value) is None
    return False


#: per group: the (field, kind) whose given value is looked at, the decimal fields,
#: field → flat key and every flat key in the schema's order (None, () for a list)
_QuickPlan = tuple[tuple[tuple[str, str], ...], tuple[str, ...], dict[str, str] | None,
                   tuple[str, ...]]


def _quick_plan(group: GroupSpec) -> _QuickPlan:
    """What :meth:`FactValidator.quick` does for ``group`` beyond its pydantic schema.

    It looks at a given value only where check_shape() could refuse what the schema
    takes: a date (a float, say) or a text (valid Unicode), and a number not given as an
    int. An int the quick schema takes is within the limits; a bool field takes only a
    bool, an enum field only one of its values: those need no look."""
    looks = tuple((f.name, f.kind) for f in group.fields.values()
                  if f.kind in ("date", "string"))
    decimals = tuple(f.name for f in group.fields.values() if f.kind in ("number", "money"))
    if group.is_list:
        return looks, decimals, None, ()
    keys = {f: f"{group.name}.{f}" for f in group.fields}
    return looks, decimals, keys, tuple(keys.values())


def _quick_item(given: Any, item: dict[str, Any], looks: tuple[tuple[str, str], ...],
                decimals: tuple[str, ...]) -> dict[str, Any] | None:
    """``item`` (one group, or one member, as the quick schema gave it from ``given``)
    for the canonical JSON, with its decimals as their canonical text — and in ``item``
    each number given as an int made a Decimal — or ``None`` when check_shape() would
    refuse a given value."""
    if type(given) is not dict:
        return None
    for name, kind in looks:
        value = given.get(name)
        if value is not None and type(value) is not int and _leaf_problem(value, kind):
            return None
    if not decimals:
        return item
    out = None
    for name in decimals:
        value = item.get(name)
        if value is None:
            continue
        if out is None:
            out = dict(item)
        if type(value) is int:  # given as an int, within the limits
            number = item[name] = Decimal(value)
            # a whole number normalised: as it is when it has no trailing zero (at most
            # 21 digits, so normalize() would not round)
            out[name] = str(number.normalize()) if value % 10 == 0 else str(value)
        elif type(value) is Decimal and not _leaf_problem(given[name], "number"):
            out[name] = _decimal_text(value)
        else:
            return None
    return item if out is None else out


#: one group (or member) of :meth:`FactValidator._exact` (see :func:`_exact_plan`)
_ExactItem = tuple[
    dict[str, None], tuple[tuple[str, str, bool], ...],
    tuple[tuple[str, str, bool, int, int], ...],
    tuple[tuple[str, str, bool, dict[str, str]], ...],
    tuple[tuple[str, str, bool, int, int, Decimal, Decimal], ...],
    tuple[tuple[str, str, bool], ...]]


def _exact_plan(group: GroupSpec) -> tuple[str, bool, int, _ExactItem]:
    """``group`` for :meth:`FactValidator._exact`: its name, whether it is a list and its
    longest, and for :func:`_exact_item` every field to ``None`` in the schema's order,
    then its fields kind by kind, each with its flat key and whether it is required: the
    bools, the ints with their bounds, the enums with their values (each to itself, as
    the schema spells it), the numbers with their int and decimal bounds, and any other
    (a date, a text: never exact)."""
    bound = 10 ** MAX_NUMBER_EXPONENT
    bools: list[tuple[str, str, bool]] = []
    ints: list[tuple[str, str, bool, int, int]] = []
    enums: list[tuple[str, str, bool, dict[str, str]]] = []
    numbers: list[tuple[str, str, bool, int, int, Decimal, Decimal]] = []
    others: list[tuple[str, str, bool]] = []
    for spec in group.fields.values():
        name, key, required = spec.name, f"{group.name}.{spec.name}", spec.required
        if spec.kind == "bool":
            bools.append((name, key, required))
        elif spec.kind == "enum":
            enums.append((name, key, required, {v: v for v in spec.values or ()}))
        elif spec.kind in _NUMERIC:  # the ints the field takes, as in the quick schema
            _, kwargs = _field_parts(spec)
            lo, hi = max(math.ceil(kwargs["ge"]), -bound), min(math.floor(kwargs["le"]), bound)
            if spec.kind == "int":
                ints.append((name, key, required, lo, hi))
            else:
                # the decimals: the field's bounds, and within the number limits' size (a
                # decimal up to 1e20 has an exponent check_shape() takes)
                numbers.append((name, key, required, lo, hi, Decimal(max(kwargs["ge"], -bound)),
                                Decimal(min(kwargs["le"], bound))))
        else:
            others.append((name, key, required))
    item: _ExactItem = (dict.fromkeys(group.fields), tuple(bools), tuple(ints), tuple(enums),
                        tuple(numbers), tuple(others))
    return group.name, group.is_list, group.max_items or DEFAULT_MAX_MEMBERS, item


def _drop(item: dict[str, Any], flat: dict[str, Any] | None, name: str, key: str) -> None:
    """A field the document does not give (absent, or null where it may be) taken out of
    the copies of the group's fields and of the flat facts :func:`_exact_item` fills."""
    del item[name]
    if flat is not None:
        del flat[key]


def _exact_item(given: Any, plan: _ExactItem,
                flat: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """One group (or member) of :meth:`FactValidator._exact`: its values and its
    canonical form, each flat value put in ``flat`` (which holds every flat key already,
    in the schema's order: the key of a fact not given is taken out); ``None`` if it is
    not exact.

    The fields are read kind by kind (no field asks for its kind) into a copy of the
    group's fields in the schema's order (no dict grows key by key); one not given is
    taken out."""
    if type(given) is not dict:
        return None
    template, bools, ints, enums, numbers, others = plan
    get = given.get
    item: dict[str, Any] = template.copy()
    value: Any
    for name, key, required in bools:
        value = get(name)
        if type(value) is not bool:
            if value is not None or required:
                return None
            _drop(item, flat, name, key)  # (absent, or null: counted below as a key not taken)
            continue
        item[name] = value
        if flat is not None:
            flat[key] = value
    for name, key, required, lo, hi in ints:
        value = get(name)
        if type(value) is not int or not lo <= value <= hi:
            if value is not None or required:
                return None
            _drop(item, flat, name, key)
            continue
        item[name] = value
        if flat is not None:
            flat[key] = value
    for name, key, required, spelt in enums:
        value = get(name)
        if type(value) is not str:
            if value is not None or required:
                return None
            _drop(item, flat, name, key)
            continue
        value = spelt.get(value)  # the schema's own text, as pydantic gives it
        if value is None:
            return None
        item[name] = value
        if flat is not None:
            flat[key] = value
    #: the decimals' canonical texts (the canonical form is ``item`` with these)
    texts: list[tuple[str, str]] = []
    for name, key, required, lo, hi, dlo, dhi in numbers:
        value = get(name)
        cls = type(value)
        if cls is int:
            if not lo <= value <= hi:
                return None
            number = Decimal(value)
            # a whole number normalised: as it is when it has no trailing zero (at
            # most 21 digits, so normalize() would not round)
            texts.append((name, str(number.normalize()) if value % 10 == 0
                          else str(value)))
            value = number
        elif cls is Decimal and value.is_finite() and dlo <= value <= dhi:
            # a decimal as pydantic takes it (this very object) and check_shape()
            # does: finite, within the bounds, not too many digits (its text shows
            # every digit it has: a short one has few)
            text = str(value)
            if len(text) > MAX_NUMBER_DIGITS and len(value.as_tuple()[1]) > MAX_NUMBER_DIGITS:
                return None
            if text[-1] == "0" or "E" in text or "e" in text:
                text = _decimal_text(value)
            # (else as it is: a whole number without trailing zeros is its own
            # normal form, and a fraction whose last digit is not 0 is not whole)
            texts.append((name, text))
        elif cls is float and _isfinite(value):
            # a JSON body's fraction: the decimal pydantic makes of it (its shortest
            # text: at most 17 digits), within the bounds
            value = Decimal(repr(value))
            if not dlo <= value <= dhi:
                return None
            texts.append((name, _decimal_text(value)))
        elif value is None and not required:
            _drop(item, flat, name, key)
            continue
        else:
            return None
        item[name] = value
        if flat is not None:
            flat[key] = value
    if others:  # (never exact: the schema's path reads one)
        for name, key, required in others:
            if name in given or required:
                return None
            _drop(item, flat, name, key)
    if len(item) != len(given):  # a key that is not a field, or a null
        return None
    if not texts:
        return item, item
    canon = item.copy()
    for name, text in texts:
        canon[name] = text
    return item, canon


class FactValidator:
    """Validates facts documents against one schema (build once, use many times)."""

    def __init__(self, schema: FactSchema) -> None:
        self.schema = schema
        #: the whole schema's pydantic model (:attr:`model`), built on first use: the full
        #: path and the JSON schema need it (~11 ms on rules/no, kept out of Engine
        #: start-up as the quick path's validator is); building it twice is harmless
        self._model: type[BaseModel] | None = None
        self.list_group = next((g.name for g in schema.groups.values() if g.is_list), None)
        self._kinds = {g.name: {f.name: f.kind for f in g.fields.values()}
                       for g in schema.groups.values()}
        self._lists = {g.name: g.max_items or DEFAULT_MAX_MEMBERS
                       for g in schema.groups.values() if g.is_list}
        #: the quick path's validator, built on first use (it is a second schema: ~7 ms
        #: on rules/no, kept out of Engine start-up); building it twice is harmless
        self._quick: Callable[[Any], Any] | None = None
        #: per group, what :meth:`quick` does beyond pydantic: the fields whose given
        #: value it looks at as check_shape() would, the decimal fields whose canonical
        #: text it writes, and field → flat key (``None`` for the list group)
        self._plans = {g.name: _quick_plan(g) for g in schema.groups.values()}
        #: the groups for :meth:`_exact`, in the schema's order
        self._exact_plans = tuple(_exact_plan(g) for g in schema.groups.values())
        #: every flat key to ``None``, in the schema's order (:meth:`_exact` fills a copy)
        self._exact_flat: dict[str, None] = {}
        for _, is_list, _, plan in self._exact_plans:
            if not is_list:  # (the plan's own key objects: each look-up finds itself)
                keys = {field[0]: field[1] for fields in plan[1:] for field in fields}
                self._exact_flat.update(dict.fromkeys(keys[name] for name in plan[0]))

    @property
    def model(self) -> type[BaseModel]:
        """The pydantic model of the whole schema (see :func:`build_facts_model`)."""
        model = self._model
        if model is None:
            model = self._model = build_facts_model(self.schema)
        return model

    def quick(self, raw: Any) -> ValidFacts | None:
        """``raw`` validated on the fast path (see the module docstring), or ``None``:
        then :meth:`validate` gives the answer, errors included."""
        if type(raw) is not dict:
            return None
        exact = self._exact(raw)
        return exact if exact is not None else self._schema_quick(raw)

    def _schema_quick(self, raw: dict[str, Any]) -> ValidFacts | None:
        """:meth:`quick` with the quick schema (any document :meth:`_exact` does not
        take: numbers as decimals, floats or text, dates, texts, …)."""
        validate = self._quick
        if validate is None:
            validate = self._quick = build_quick_adapter(self.schema).validate_python
        try:
            data = validate(raw)
        except (ValueError, TypeError, ArithmeticError, RecursionError):
            return None
        flat: dict[str, Any] = {}
        members: list[dict[str, Any]] | None = None
        #: ``data`` with each decimal as its canonical text (groups without one shared)
        canon: dict[str, Any] = {}
        plans = self._plans
        for group, values in data.items():
            looks, decimals, keys, all_keys = plans[group]
            given = raw[group]
            if keys is None:
                members = values
                if type(given) is not list:  # (a tuple, say: the full path reads it)
                    return None
                if looks or decimals:
                    items = []
                    for source, item in zip(given, values):  # noqa: B905 (same length)
                        text = _quick_item(source, item, looks, decimals)
                        if text is None:
                            return None
                        items.append(text)
                    canon[group] = items
                else:
                    canon[group] = values
                continue
            if looks or decimals:
                text = _quick_item(given, values, looks, decimals)
                if text is None:
                    return None
                canon[group] = text
            else:
                canon[group] = values
            if len(values) == len(all_keys):  # every field, in the schema's order
                flat.update(zip(all_keys, values.values()))  # noqa: B905
            else:
                flat.update(zip(map(keys.__getitem__, values), values.values()))  # noqa: B905
        body = _sorted_dumps(canon)  # (its decimals are text already)
        if body is None:  # orjson absent or refusing (an integer beyond 64 bits)
            body = canonical_json(data).encode()
        return ValidFacts(flat, members, data, hashlib.sha256(body).hexdigest())

    def _exact(self, raw: dict[str, Any]) -> ValidFacts | None:
        """The usual document, in one pass: every value exactly a JSON bool, an int
        within its field's bounds and the number limits, one of an enum's values, or in
        a number field a finite decimal or float within its bounds and the limits (what the
        quick schema gives for it, the same values in the same order);
        ``None`` for anything else (:meth:`quick`'s schema then decides)."""
        data: dict[str, Any] = {}
        #: every flat key in the schema's order (the key of a fact not given taken out)
        flat: dict[str, Any] = self._exact_flat.copy()
        canon: dict[str, Any] = {}
        members: list[dict[str, Any]] | None = None
        seen = 0
        for group, is_list, longest, plan in self._exact_plans:
            given = raw.get(group)
            if given is None:
                if group in raw:
                    return None
                if not is_list:
                    for fields in plan[1:]:
                        for field in fields:
                            del flat[field[1]]
                continue
            seen += 1
            if is_list:
                if type(given) is not list or not 0 < len(given) <= longest:
                    return None
                items = []
                texts = []
                for source in given:
                    one = _exact_item(source, plan, None)
                    if one is None:
                        return None
                    items.append(one[0])
                    texts.append(one[1])
                members = data[group] = items
                canon[group] = texts
                continue
            one = _exact_item(given, plan, flat)
            if one is None:
                return None
            data[group], canon[group] = one
        if seen != len(raw):  # a group that is not in the schema
            return None
        body = _sorted_dumps(canon)
        if body is None:  # orjson absent or refusing (an integer beyond 64 bits)
            body = canonical_json(data).encode()
        return _valid_facts(ValidFacts, (flat, members, data, _sha256(body).hexdigest()))

    def plain_shape(self, raw: dict[str, Any]) -> bool:
        """A fast look at the usual shape (groups of plain values, a short member list);
        ``False`` means :func:`check_shape` must look closely. A document of this shape
        has no ``{value, source}`` wrappers or dated values either."""
        if len(raw) > MAX_OBJECT_KEYS:
            return False
        for gname, group in raw.items():
            kinds = self._kinds.get(gname) if type(gname) is str else None
            if kinds is None:
                return False
            if type(group) is dict:
                items = [group]
            elif type(group) is list and gname in self._lists:
                if len(group) > self._lists[gname]:
                    return False
                items = group
            elif group is None:
                continue
            else:
                return False
            for item in items:
                if type(item) is not dict or len(item) > MAX_OBJECT_KEYS:
                    return False
                for fname, value in item.items():
                    cls = type(value)
                    if cls is bool or value is None or (
                            cls is int and value.bit_length() <= 66):  # the common cases
                        if type(fname) is not str:
                            return False
                        continue
                    if type(fname) is not str or not _plain_leaf(value, kinds.get(fname)):
                        return False
        return True

    def validate(self, raw: Any, plain: bool = False, use_quick: bool = True) -> ValidFacts:
        """``raw`` validated (raises FactsError); ``plain``: :meth:`plain_shape` said so
        (and :meth:`quick` did not take it); ``use_quick=False``: the full path only."""
        if not isinstance(raw, dict):
            raise FactsError([FactIssue("(facts)", "the facts must be a mapping of groups",
                                        type(raw).__name__, "an object")])
        quick = self.quick(raw) if use_quick and not plain else None
        if quick is not None:
            return quick
        if not plain and not self.plain_shape(raw):
            check_shape(raw, self.schema)  # finds and names what is wrong
        try:
            model = self.model.model_validate(raw)
        except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
            if not isinstance(exc, ValidationError):
                raise FactsError([FactIssue("(facts)", "the facts cannot be read: "
                                            f"{type(exc).__name__}")]) from None
            issues = []
            for err in exc.errors(include_url=False):
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
