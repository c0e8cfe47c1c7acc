"""The household form: generated from a pack's fact schema, read back into facts.

:func:`form_groups` turns the :class:`~eligibility.pack.model.FactSchema` and a facts
dict into what the templates draw: per group its fields (label, help text, unit, kind,
choices, current value as text), and for the list group (``members``) one block per
member. Field names are the engine's own paths (``housing.cost_month``,
``members[1].age``), so an error from the engine names the same field the page shows.
:func:`read_form` parses submitted form data back into facts with the schema's parsers
(:func:`eligibility.whatif.parse_field`): an empty field is a fact not given (unknown,
never defaulted); a bad value becomes an error for that field, not an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from eligibility.errors import EligibilityError
from eligibility.pack.model import FactSchema, FieldSpec, GroupSpec
from eligibility.whatif import parse_field

_MEMBER_KEY = re.compile(r"^(?P<group>[a-z_]+)\[(?P<index>\d+)\]\.(?P<name>[a-z_0-9]+)$")
#: the hidden marker that keeps a member with no facts given
PRESENT = "_present"


@dataclass(frozen=True)
class FormField:
    """One input of the form."""

    name: str          # the fact path, also the input's name
    id: str            # the input's id (no brackets or dots)
    kind: str          # bool int number money enum date string
    label: str
    label_lang: str    # the language the label is in (nb when nn is missing)
    help: str | None
    unit: str | None
    choices: tuple[str, ...]
    value: str
    error: str | None = None
    minimum: Any = None
    maximum: Any = None


@dataclass(frozen=True)
class FormBlock:
    """A group of the schema, or one member of the list group."""

    group: str
    title: str
    title_lang: str
    index: int | None
    fields: tuple[FormField, ...]


@dataclass
class ReadForm:
    """Facts read from a form, with the errors per field path."""

    facts: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def input_id(path: str) -> str:
    """An HTML id for a fact path (``members[1].age`` → ``f-members-1-age``)."""
    return "f-" + re.sub(r"[^a-zA-Z0-9_]+", "-", path).strip("-")


def text_lang(nb: str, nn: str | None, lang: str) -> str:
    """The language a pack text is shown in (``nb`` when nynorsk is asked but missing)."""
    return "nb" if lang == "nn" and not nn else lang


def value_text(value: Any) -> str:
    """A fact value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() \
            else format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _field(spec: FieldSpec, path: str, value: Any, lang: str,
           errors: Mapping[str, str], raw: Mapping[str, str]) -> FormField:
    help_text = spec.question.get(lang) if spec.question else None
    shown = raw[path] if path in errors and path in raw else value_text(value)
    return FormField(
        name=path, id=input_id(path), kind=spec.kind, label=spec.title.get(lang),
        label_lang=text_lang(spec.title.nb, spec.title.nn, lang), help=help_text,
        unit=spec.unit, choices=tuple(spec.values or ()), value=shown,
        error=errors.get(path), minimum=spec.minimum, maximum=spec.maximum,
    )


def form_groups(schema: FactSchema, facts: Mapping[str, Any], lang: str,
                errors: Mapping[str, str] | None = None,
                raw: Mapping[str, str] | None = None) -> list[FormBlock]:
    """The blocks of the form for ``facts`` (see module docstring)."""
    errors = errors or {}
    raw = raw or {}
    blocks: list[FormBlock] = []
    for group in schema.groups.values():
        title = group.title.get(lang)
        tlang = text_lang(group.title.nb, group.title.nn, lang)
        if group.is_list:
            items = facts.get(group.name) or []
            for i, item in enumerate(items):
                fields = tuple(_field(spec, f"{group.name}[{i}].{spec.name}",
                                      (item or {}).get(spec.name), lang, errors, raw)
                               for spec in group.fields.values())
                blocks.append(FormBlock(group.name, title, tlang, i, fields))
            if not items:
                blocks.append(FormBlock(group.name, title, tlang, None, ()))
            continue
        values = facts.get(group.name) or {}
        fields = tuple(_field(spec, f"{group.name}.{spec.name}", values.get(spec.name), lang,
                              errors, raw) for spec in group.fields.values())
        blocks.append(FormBlock(group.name, title, tlang, None, fields))
    return blocks


def list_group(schema: FactSchema) -> GroupSpec | None:
    """The schema's list group (``members``), if it has one."""
    return next((g for g in schema.groups.values() if g.is_list), None)


def read_form(schema: FactSchema, data: Mapping[str, str]) -> ReadForm:
    """Facts from submitted form data (see module docstring); unknown names are ignored."""
    out = ReadForm(facts={})
    members: dict[int, dict[str, Any]] = {}
    lgroup = list_group(schema)
    for key, raw in data.items():
        match = _MEMBER_KEY.match(key)
        if match and lgroup is not None and match["group"] == lgroup.name:
            index = int(match["index"])
            item = members.setdefault(index, {})
            name = match["name"]
            if name == PRESENT or not raw.strip():
                continue
            spec = lgroup.fields.get(name)
            if spec is None:
                continue
            _put(out, item, spec, name, raw, key)
            continue
        group, dot, name = key.partition(".")
        gspec = schema.groups.get(group)
        if not dot or gspec is None or gspec.is_list or not raw.strip():
            continue
        spec = gspec.fields.get(name)
        if spec is None:
            continue
        _put(out, out.facts.setdefault(group, {}), spec, name, raw, key)
    out.facts = {g: v for g, v in out.facts.items() if v}
    if lgroup is not None and members:
        out.facts[lgroup.name] = [members[i] for i in sorted(members)]
    return out


def _put(out: ReadForm, target: dict[str, Any], spec: FieldSpec, name: str, raw: str,
         path: str) -> None:
    try:
        target[name] = parse_field(spec, raw, path)
    except EligibilityError as exc:
        out.errors[path] = str(exc)


def remove_member(facts: dict[str, Any], group: str, index: int) -> dict[str, Any]:
    """``facts`` without member ``index`` of ``group`` (out of range: unchanged)."""
    items = list(facts.get(group) or [])
    if 0 <= index < len(items):
        del items[index]
    return {**facts, group: items} if items else {k: v for k, v in facts.items() if k != group}


def add_member(facts: dict[str, Any], group: str) -> dict[str, Any]:
    """``facts`` with one more (empty) member of ``group``."""
    return {**facts, group: [*(facts.get(group) or []), {}]}
