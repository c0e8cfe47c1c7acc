"""The household form: generated from a pack's fact schema, read back into facts.

:func:`form_groups` turns the :class:`~eligibility.pack.model.FactSchema` and a facts
dict into what the templates draw: per group its fields (label, help text, unit, kind,
choices, current value as text), and for the list group (``members``) one block per
member. Field names are the engine's own paths (``housing.cost_month``,
``members[1].age``), so an error from the engine names the same field the page shows.
:func:`read_form` parses submitted form data back into facts with the schema's parsers
(:func:`eligibility.whatif.parse_field`): an empty field is a fact not given (unknown,
never defaulted); a bad value becomes an error for that field, not an exception.

A fact given with a source (``{value, source, confirmed}``) or as dated values
(``[{from, value, ...}]``, :mod:`eligibility.provenance`) keeps its input showing its
value on the assessment date; next to it the form shows its source, a "confirmed"
checkbox (for the value in force on that date) and the dated values, and carries the fact
as given in a hidden ``given:PATH`` input (with the value it was shown with in
``shown:PATH``). :func:`read_form` rebuilds the fact from those: untouched, it is the fact
as given with the checkbox applied; a changed value becomes the caseworker's own
(source ``caseworker``, confirmed; for dated values, from the assessment date on); an
emptied field is a fact not given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from eligibility.errors import EligibilityError, FactsError
from eligibility.pack.model import FactSchema, FieldSpec, GroupSpec
from eligibility.provenance import GivenFact, read_given
from eligibility.whatif import parse_field

_MEMBER_KEY = re.compile(r"^(?P<group>[a-z_]+)\[(?P<index>\d+)\]\.(?P<name>[a-z_0-9]+)$")
#: the hidden marker that keeps a member with no facts given
PRESENT = "_present"
#: prefixes of the hidden inputs that carry a fact's provenance (``given:housing.cost_month``)
GIVEN, SHOWN, CONFIRMED = "given:", "shown:", "confirmed:"
#: the source of a value the caseworker entered
CASEWORKER = "caseworker"


@dataclass(frozen=True)
class DatedValue:
    """One dated value of a fact, as the form lists it."""

    start: str
    value: str
    source: str | None
    confirmed: bool | None
    current: bool  # in force on the assessment date


@dataclass(frozen=True)
class GivenView:
    """Where a fact given with a source or as dated values came from (see module docstring)."""

    json: str                   # the fact as given, values as text (the hidden given:PATH)
    shown: str                  # the value the input was rendered with (shown:PATH)
    source: str | None          # of the value in force on the assessment date
    confirmed: bool | None      # None: nothing in force, or unknown provenance
    confirmable: bool           # a value is in force on the assessment date
    dated: tuple[DatedValue, ...]


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
    given: GivenView | None = None


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
    #: facts given with a source whose value the caseworker changed in this submission
    edited: set[str] = field(default_factory=set)


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


def _given_view(fact: GivenFact, when: date) -> GivenView:
    current = fact.at(when)
    doc = {"dated": fact.dated,
           "values": [{"from": g.start.isoformat() if g.start else None,
                       "value": value_text(g.value), "source": g.source,
                       "confirmed": g.confirmed} for g in fact.values]}
    dated = tuple(DatedValue(g.start.isoformat(), value_text(g.value), g.source, g.confirmed,
                             g is current)
                  for g in fact.values if fact.dated and g.start is not None)
    return GivenView(json=json.dumps(doc, ensure_ascii=False, sort_keys=True),
                     shown=value_text(current.value) if current else "",
                     source=current.source if current else None,
                     confirmed=current.confirmed if current else None,
                     confirmable=current is not None and current.confirmed is not None,
                     dated=dated)


def _field(spec: FieldSpec, path: str, value: Any, lang: str,
           errors: Mapping[str, str], raw: Mapping[str, str],
           given: GivenFact | None = None, when: date | None = None) -> FormField:
    help_text = spec.question.get(lang) if spec.question else None
    view = _given_view(given, when or date.today()) if given is not None else None
    if view is not None:
        shown = raw[path] if path in errors and path in raw else view.shown
    else:
        shown = raw[path] if path in errors and path in raw else value_text(value)
    return FormField(
        name=path, id=input_id(path), kind=spec.kind, label=spec.title.get(lang),
        label_lang=text_lang(spec.title.nb, spec.title.nn, lang), help=help_text,
        unit=spec.unit, choices=tuple(spec.values or ()), value=shown,
        error=errors.get(path), minimum=spec.minimum, maximum=spec.maximum, given=view,
    )


def given_facts(facts: Mapping[str, Any], sources: tuple[str, ...] = (),
                schema: FactSchema | None = None) -> dict[str, GivenFact]:
    """The facts of ``facts`` given with a source or as dated values, by path (none when
    the document's wrappers do not parse: the engine reports those)."""
    try:
        parsed = read_given(dict(facts), sources, schema)
    except FactsError:
        return {}
    return {f.path: f for f in parsed.special}


def form_groups(schema: FactSchema, facts: Mapping[str, Any], lang: str,
                errors: Mapping[str, str] | None = None,
                raw: Mapping[str, str] | None = None, as_of: date | None = None,
                sources: tuple[str, ...] = ()) -> list[FormBlock]:
    """The blocks of the form for ``facts`` on ``as_of`` (see module docstring)."""
    errors = errors or {}
    raw = raw or {}
    given = given_facts(facts, sources, schema)
    blocks: list[FormBlock] = []
    for group in schema.groups.values():
        title = group.title.get(lang)
        tlang = text_lang(group.title.nb, group.title.nn, lang)
        if group.is_list:
            items = facts.get(group.name) or []
            for i, item in enumerate(items):
                fields = []
                for spec in group.fields.values():
                    path = f"{group.name}[{i}].{spec.name}"
                    fields.append(_field(spec, path, (item or {}).get(spec.name), lang, errors,
                                         raw, given.get(path), as_of))
                blocks.append(FormBlock(group.name, title, tlang, i, tuple(fields)))
            if not items:
                blocks.append(FormBlock(group.name, title, tlang, None, ()))
            continue
        values = facts.get(group.name) or {}
        fields = [_field(spec, f"{group.name}.{spec.name}", values.get(spec.name), lang,
                         errors, raw, given.get(f"{group.name}.{spec.name}"), as_of)
                  for spec in group.fields.values()]
        blocks.append(FormBlock(group.name, title, tlang, None, tuple(fields)))
    return blocks


def list_group(schema: FactSchema) -> GroupSpec | None:
    """The schema's list group (``members``), if it has one."""
    return next((g for g in schema.groups.values() if g.is_list), None)


def read_form(schema: FactSchema, data: Mapping[str, str], as_of: date | None = None,
              sources: tuple[str, ...] = ()) -> ReadForm:
    """Facts from submitted form data (see module docstring); unknown names are ignored.
    ``as_of`` is the assessment date a changed dated value starts on; ``sources`` the
    pack's fact sources (a changed value gets source ``caseworker`` when it is one)."""
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
    for key, doc in data.items():
        if key.startswith(GIVEN):
            _read_given(out, schema, members, key.removeprefix(GIVEN), doc, data,
                        as_of or date.today(), sources)
    out.facts = {g: v for g, v in out.facts.items() if v}
    if lgroup is not None and members:
        out.facts[lgroup.name] = [members[i] for i in sorted(members)]
    return out


def _target(out: ReadForm, schema: FactSchema, members: dict[int, dict[str, Any]],
            path: str) -> tuple[dict[str, Any], str, FieldSpec] | None:
    """Where the fact at ``path`` goes, and its field (``None``: not a fact path)."""
    match = _MEMBER_KEY.match(path)
    lgroup = list_group(schema)
    if match:
        if lgroup is None or match["group"] != lgroup.name:
            return None
        spec = lgroup.fields.get(match["name"])
        if spec is None:
            return None
        return members.setdefault(int(match["index"]), {}), match["name"], spec
    group, _, name = path.partition(".")
    gspec = schema.groups.get(group)
    spec = gspec.fields.get(name) if gspec is not None and not gspec.is_list else None
    if gspec is None or spec is None:
        return None
    return out.facts.setdefault(group, {}), name, spec


def _read_given(out: ReadForm, schema: FactSchema, members: dict[int, dict[str, Any]],
                path: str, doc: str, data: Mapping[str, str], when: date,
                sources: tuple[str, ...]) -> None:
    """Put the fact at ``path`` back together from its hidden inputs (module docstring)."""
    target = _target(out, schema, members, path)
    if target is None or path in out.errors:
        return
    place, name, spec = target
    visible = data.get(path, "").strip()
    if visible == data.get(SHOWN + path, "").strip():
        try:
            place[name] = _rebuild(spec, path, doc, data.get(CONFIRMED + path), when)
        except (ValueError, TypeError, KeyError, AttributeError, EligibilityError):
            out.errors[path] = (f"{path}: the form's record of where this fact came from is "
                                "damaged; enter the value again")
            place.pop(name, None)
        return
    out.edited.add(path)
    if not visible:
        place.pop(name, None)  # emptied: not given
        return
    own: dict[str, Any] = {"value": place[name], "confirmed": True}
    if CASEWORKER in sources:
        own["source"] = CASEWORKER
    try:
        given = json.loads(doc)
        dated = given.get("dated") is True
    except (ValueError, AttributeError):
        dated = False
    if not dated:
        place[name] = own
        return
    try:
        entries = _rebuild(spec, path, doc, None, when)
    except (ValueError, TypeError, KeyError, AttributeError, EligibilityError):
        entries = []
    place[name] = ([e for e in entries if e["from"] < when] + [{"from": when, **own}]
                   + [e for e in entries if e["from"] > when])


def _rebuild(spec: FieldSpec, path: str, doc: str, confirmed: str | None,
             when: date) -> Any:
    """The fact as given from its hidden ``given:PATH`` input, with the "confirmed"
    checkbox (``"true"``/``"false"``; ``None``: no checkbox) applied to the value in
    force on ``when`` (raises on a damaged record)."""
    given = json.loads(doc)
    dated = given["dated"] is True
    entries: list[dict[str, Any]] = []
    for item in given["values"]:
        entry: dict[str, Any] = {}
        if dated:
            entry["from"] = date.fromisoformat(item["from"])
        entry["value"] = parse_field(spec, str(item["value"]), path)
        if item.get("source") is not None:
            entry["source"] = str(item["source"])
        if item.get("confirmed") is not None:
            entry["confirmed"] = bool(item["confirmed"])
        entries.append(entry)
    if not entries:
        raise ValueError("no values")
    current = None
    for entry in entries:
        if not dated or entry["from"] <= when:
            current = entry
    if current is not None and confirmed in ("true", "false"):
        current["confirmed"] = confirmed == "true"
    return entries if dated else entries[0]


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
