"""What-if: change a household's facts and compare the decisions side by side.

This module owns fact *changes*: the path syntax (``economy.income_month``,
``members[1].age``, ``members[+]`` to add a member, ``members[1]`` = null to
remove one, ``members`` = 3 to resize the household), parsing a change's value
from text according to the pack's fact schema, applying changes to a copy of the
facts (:func:`apply_changes`), and comparing the baseline decision with the
decision for the changed facts (:func:`what_if`): which statuses changed, which
amounts changed and by how much, and which requirements changed outcome; over a
period (:func:`what_if_period`), the same per sub-period. Both decisions carry their
own "confirm before deciding" items when the facts are given with sources.
Scenario files (a baseline and named variants) are compared with
:func:`compare_scenario` (over a period: :func:`compare_scenario_period`). Nothing
here guesses: every variant is a full re-evaluation by the engine.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eligibility.decision import Decision, MeasureResult, Outcome, Status
from eligibility.engine import Engine
from eligibility.errors import EligibilityError
from eligibility.explain.calculation import changed_steps
from eligibility.facts import check_shape
from eligibility.limits import DEFAULT_MAX_MEMBERS, MAX_OBJECT_KEYS
from eligibility.pack.model import FactSchema, FieldSpec
from eligibility.pack.yamlio import (
    YamlError,
    load_facts_text,
    load_yaml_text,
    number_problem,
    plain,
    read_text_file,
)
from eligibility.periods import Change, PeriodResult
from eligibility.provenance import WRAPPER_KEYS

_PATH = re.compile(
    r"^(?P<group>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\[(?P<index>[+]|-?[0-9]+)\])?"
    r"(?:\.(?P<field>[A-Za-z_][A-Za-z0-9_]*))?$"
)
_TRUE = frozenset({"true", "yes", "ja", "j", "y", "1"})
_FALSE = frozenset({"false", "no", "nei", "n", "0"})
_NULL = frozenset({"", "null", "none", "~"})


class ChangeError(EligibilityError):
    """A change that cannot be made: a bad path, a value of the wrong type, no such member."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class FactChange(_Model):
    """One fact as it was and as the variant has it (``None``: not given)."""

    path: str
    before: Any = None
    after: Any = None


class ReasonChange(_Model):
    """A requirement whose outcome (or waiving exception) differs between the decisions."""

    requirement: str
    title: str
    before: Outcome | None
    after: Outcome | None
    message_before: str | None = None
    message_after: str | None = None


class StepChange(_Model):
    """A step of the amount's calculation whose value differs (``None``: unknown or absent)."""

    name: str
    title: str | None = None
    before: Any = None
    after: Any = None
    unit: str | None = None


class MeasureDiff(_Model):
    """One measure in the baseline and in the variant."""

    id: str
    title: str
    status_before: Status | None
    status_after: Status | None
    amount_before: Decimal | None = None
    amount_after: Decimal | None = None
    amount_delta: Decimal | None = None
    unit: str | None = None
    reasons_changed: list[ReasonChange] = []
    #: the calculation steps whose value changed, in the order of the calculation
    steps_changed: list[StepChange] = []

    @property
    def status_changed(self) -> bool:
        return self.status_before != self.status_after

    @property
    def amount_changed(self) -> bool:
        return self.amount_before != self.amount_after

    @property
    def changed(self) -> bool:
        return self.status_changed or self.amount_changed or bool(self.reasons_changed)


class WhatIfResult(_Model):
    """The baseline and variant decisions and how each measure differs."""

    name: str | None = None
    changes: list[FactChange]
    baseline: Decision
    variant: Decision
    measures: list[MeasureDiff]

    def changed(self) -> list[MeasureDiff]:
        """Only the measures whose status, amount or reasons differ."""
        return [m for m in self.measures if m.changed]

    def diff(self, measure_id: str) -> MeasureDiff:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)


class Scenario(_Model):
    """A baseline household and named variants (each a dict of changes)."""

    baseline: dict[str, Any]
    variants: dict[str, dict[str, Any]]


class ScenarioResult(_Model):
    """Every variant of a scenario compared with the same baseline."""

    baseline: Decision
    variants: list[WhatIfResult]


# -- paths ------------------------------------------------------------------


def _suggest(name: str, options: list[str]) -> list[str]:
    """The likeliest intended name: a close spelling, or the one ``name`` starts."""
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return close or [o for o in options if name and o.startswith(name)][:1]


def _split(path: str) -> tuple[str, str | None, str | None]:
    match = _PATH.match(path.strip())
    if match is None:
        raise ChangeError(
            f"{path!r} is not a fact path; write group.field, members[1].field, "
            "members[+] (add a member) or members[1] (a whole member)"
        )
    return match["group"], match["index"], match["field"]


def _list_group(schema: FactSchema) -> str | None:
    return next((g.name for g in schema.groups.values() if g.is_list), None)


def field_spec(schema: FactSchema, path: str) -> FieldSpec | None:
    """The schema field a concrete path refers to (``members[2].age`` → ``members.age``)."""
    group, _, name = _split(path)
    return schema.field(f"{group}.{name}") if name else None


def _check_path(schema: FactSchema, path: str) -> tuple[str, str | None, str | None]:
    group, index, name = _split(path)
    spec = schema.groups.get(group)
    if spec is None:
        hint = _suggest(group, list(schema.groups))
        raise ChangeError(f"{path!r}: no fact group {group!r}"
                          + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    if index is not None and not spec.is_list:
        raise ChangeError(f"{path!r}: {group!r} is not a list; write {group}.field")
    if spec.is_list and name is not None and index is None:
        raise ChangeError(f"{path!r}: say which member, e.g. {group}[0].{name}")
    if index == "+" and name is not None:
        raise ChangeError(f"{path!r}: give the new member as a whole, e.g. "
                          f"{group}[+]={{age: 5}}")
    if name is not None and name not in spec.fields:
        hint = _suggest(name, list(spec.fields))
        raise ChangeError(f"{path!r}: {group!r} has no fact {name!r}"
                          + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    return group, index, name


# -- values -----------------------------------------------------------------


def parse_value(schema: FactSchema, path: str, text: str) -> Any:
    """Parse ``text`` as the value of the fact at ``path`` (``null`` or empty: remove it).

    Numbers accept a decimal comma and thin/space thousands separators; money and
    numbers become exact Decimals; booleans accept true/false, ja/nei, yes/no.
    ``members[+]`` and ``members[N]`` take a mapping (``{age: 5}`` or
    ``age=5,role=child``); ``members`` takes the number of members.
    """
    group, index, name = _check_path(schema, path)
    raw = text.strip()
    if raw.lower() in _NULL:
        return None
    gspec = schema.groups[group]
    if name is None:
        if gspec.is_list and index is None:
            try:
                count = int(raw) if len(raw) <= 10 else -1
            except ValueError:
                raise ChangeError(f"{path}: give the number of members, "
                                  f"got {text[:60]!r}") from None
            return count
        return _parse_mapping(schema, group, path, raw)
    spec = gspec.fields[name]
    return parse_field(spec, raw, path)


def parse_field(spec: FieldSpec, raw: str, path: str) -> Any:
    """Parse one field's value from text (raises :class:`ChangeError` with what was expected)."""
    raw = raw.strip()
    kind = spec.kind
    if kind == "bool":
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ChangeError(f"{path}: expected true or false (ja/nei), got {raw[:60]!r}")
    if kind in ("int", "number", "money"):
        cleaned = raw.replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
        cleaned = cleaned.replace("_", "").replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise ChangeError(f"{path}: expected {_kind_text(spec)}, got {raw[:40]!r}")
        problem = number_problem(value)
        if problem:
            raise ChangeError(f"{path}: {problem}, got {raw[:40]!r}")
        if kind == "int":
            if value != value.to_integral_value():
                raise ChangeError(f"{path}: expected a whole number, got {raw[:60]!r}")
            result: Any = int(value)
        else:
            result = value
        if spec.minimum is not None and result < spec.minimum:
            raise ChangeError(f"{path}: must be at least {spec.minimum}, got {raw[:60]!r}")
        if spec.maximum is not None and result > spec.maximum:
            raise ChangeError(f"{path}: must be at most {spec.maximum}, got {raw[:60]!r}")
        return result
    if kind == "enum":
        values = spec.values or ()
        if raw in values:
            return raw
        hint = _suggest(raw, list(values))
        raise ChangeError(f"{path}: expected one of {', '.join(values)}, got {raw[:60]!r}"
                          + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    if kind == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ChangeError(f"{path}: expected a date YYYY-MM-DD, got {raw[:60]!r}") from None
    return raw


def _kind_text(spec: FieldSpec) -> str:
    text = {"int": "a whole number", "number": "a number", "money": "an amount"}.get(
        spec.kind, spec.kind)
    return f"{text} in {spec.unit}" if spec.unit else text


def _parse_mapping(schema: FactSchema, group: str, path: str, raw: str) -> dict[str, Any]:
    if raw.startswith("{"):
        try:
            doc = plain(load_yaml_text(raw, path, aliases=False))
        except YamlError as exc:
            raise ChangeError(f"{path}: {exc.diagnostic.message}") from None
        if not isinstance(doc, dict):
            raise ChangeError(f"{path}: expected a mapping like {{age: 5}}")
        return coerce_mapping(schema, group, path, doc)
    out: dict[str, Any] = {}
    fields = schema.groups[group].fields
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq:
            raise ChangeError(f"{path}: expected field=value pairs, got {part[:60]!r}")
        if key not in fields:
            hint = _suggest(key, list(fields))
            raise ChangeError(f"{path}: {group!r} has no fact {str(key)[:60]!r}"
                              + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        out[key] = parse_field(fields[key], value, f"{path}.{key}")
    return out


def coerce_mapping(schema: FactSchema, group: str, path: str,
                   doc: Mapping[str, Any]) -> dict[str, Any]:
    """Check a member/group mapping's keys; parse string values of non-text fields."""
    fields = schema.groups[group].fields
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key not in fields:
            hint = _suggest(str(key), list(fields))
            raise ChangeError(f"{path}: {group!r} has no fact {str(key)[:60]!r}"
                              + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        out[key] = coerce_value(fields[key], value, f"{path}.{key}")
    return out


def coerce_value(spec: FieldSpec, value: Any, path: str) -> Any:
    """A value from YAML/JSON as the field's type (strings are parsed). A JSON float is
    read as the decimal it was written as (its shortest repr, as the evaluation reads
    facts), never as the binary fraction."""
    if isinstance(value, float) and spec.kind in ("int", "number", "money"):
        if value != value or value in (float("inf"), float("-inf")):
            raise ChangeError(f"{path}: expected {_kind_text(spec)}, got {value!r}")
        return parse_field(spec, repr(value), path)
    if isinstance(value, str) and spec.kind not in ("string", "enum"):
        return parse_field(spec, value, path)
    return value


def coerce_changes(schema: FactSchema, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check every path of ``changes`` and parse string values by the schema (for files/APIs)."""
    out: dict[str, Any] = {}
    for path, value in changes.items():
        group, _, name = _check_path(schema, path)
        if isinstance(value, str):
            out[path] = parse_value(schema, path, value)
        elif name is not None and value is not None:
            out[path] = coerce_value(schema.groups[group].fields[name], value, path)
        elif isinstance(value, Mapping):
            out[path] = coerce_mapping(schema, group, path, value)
        else:
            out[path] = value
    return out


# -- applying changes -------------------------------------------------------


def apply_changes(facts: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``facts`` with ``changes`` applied in order (``facts`` is not modified).

    ``{"economy.income_month": 20000}`` sets a fact, a value of ``None`` removes it;
    ``{"members[+]": {"age": 5}}`` adds a member, ``{"members[1]": None}`` removes
    the second one, ``{"members[-1].age": 40}`` sets the last member's age and
    ``{"members": 3}`` makes the household three members (new ones empty, so the
    decision asks about them). Raises :class:`ChangeError` on a path that does
    not fit the facts (e.g. a member that does not exist).
    """
    check_shape(facts)
    if len(changes) > MAX_OBJECT_KEYS:
        raise ChangeError(f"at most {MAX_OBJECT_KEYS} changes at once, got {len(changes)}")
    for path, value in changes.items():
        if not isinstance(path, str) or len(path) > 200:
            raise ChangeError("a change's path must be text of at most 200 characters")
        check_shape(value, path=(path,))
    out: dict[str, Any] = copy.deepcopy(dict(facts))
    for path, value in changes.items():
        _apply_one(out, path, copy.deepcopy(value))
    return out


def _apply_one(facts: dict[str, Any], path: str, value: Any) -> None:
    group, index, name = _split(path)
    if index is None and name is None:
        if value is None:
            facts.pop(group, None)
        elif isinstance(value, int) and not isinstance(value, bool):
            members = facts.get(group) or []
            if not isinstance(members, list) or not 0 <= value <= DEFAULT_MAX_MEMBERS:
                raise ChangeError(f"{path}: cannot set {group} to {value} "
                                  f"(0 to {DEFAULT_MAX_MEMBERS} members)")
            facts[group] = members[:value] + [{} for _ in range(value - len(members))]
        else:
            facts[group] = value
        return
    if index is None:
        assert name is not None
        target = facts.get(group)
        if target is None:
            if value is None:
                return
            target = facts[group] = {}
        if not isinstance(target, dict):
            raise ChangeError(f"{path}: {group} is not a group of facts")
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
        return
    members = facts.get(group)
    if members is None:
        members = facts[group] = []
    if not isinstance(members, list):
        raise ChangeError(f"{path}: {group} is not a list")
    if index == "+":
        if not isinstance(value, dict):
            raise ChangeError(f"{path}: a new member must be a mapping like {{age: 5}}")
        members.append(value)
        return
    i = int(index)
    if not -len(members) <= i < len(members):
        raise ChangeError(f"{path}: there is no member {i} (the household has "
                          f"{len(members)}; members are numbered from 0)")
    if name is None:
        if value is None:
            del members[i]
        elif isinstance(value, dict):
            members[i] = value
        else:
            raise ChangeError(f"{path}: a member must be a mapping like {{age: 5}}")
        return
    member = members[i]
    if not isinstance(member, dict):
        raise ChangeError(f"{path}: member {i} is not a mapping")
    if value is None:
        member.pop(name, None)
    else:
        member[name] = value


def get_fact(facts: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` in ``facts`` (``None`` when not given)."""
    group, index, name = _split(path)
    target: Any = facts.get(group)
    if index is not None and index != "+":
        if not isinstance(target, list):
            return None
        i = int(index)
        if not -len(target) <= i < len(target):
            return None
        target = target[i]
    elif index == "+":
        return None
    if name is None:
        return target
    return target.get(name) if isinstance(target, dict) else None


# -- comparing decisions ----------------------------------------------------


def _measure_map(decision: Decision) -> dict[str, MeasureResult]:
    return {m.id: m for m in decision.measures}


def diff_measure(before: MeasureResult | None, after: MeasureResult | None) -> MeasureDiff:
    """How one measure differs between two decisions."""
    some = after or before
    assert some is not None
    amount_before = before.amount if before else None
    amount_after = after.amount if after else None
    delta = None
    if amount_before is not None or amount_after is not None:
        delta = (amount_after or Decimal(0)) - (amount_before or Decimal(0))
    reasons_before = {r.requirement: r for r in before.reasons} if before else {}
    reasons_after = {r.requirement: r for r in after.reasons} if after else {}
    changed = []
    for req in list(reasons_before) + [r for r in reasons_after if r not in reasons_before]:
        rb, ra = reasons_before.get(req), reasons_after.get(req)
        key_b = (rb.outcome, rb.exception) if rb else None
        key_a = (ra.outcome, ra.exception) if ra else None
        if key_b != key_a:
            title = (ra or rb).title  # type: ignore[union-attr]
            changed.append(ReasonChange(
                requirement=req, title=title,
                before=rb.outcome if rb else None, after=ra.outcome if ra else None,
                message_before=rb.message if rb else None,
                message_after=ra.message if ra else None,
            ))
    return MeasureDiff(
        id=some.id, title=some.title,
        status_before=before.status if before else None,
        status_after=after.status if after else None,
        amount_before=amount_before, amount_after=amount_after, amount_delta=delta,
        unit=some.unit, reasons_changed=changed,
        steps_changed=[StepChange(
            name=(a or b).name, title=(a or b).title,  # type: ignore[union-attr]
            before=a.value if a else None, after=b.value if b else None,
            unit=(a or b).unit)  # type: ignore[union-attr]
            for a, b in changed_steps(before, after)],
    )


def compare(baseline: Decision, variant: Decision) -> list[MeasureDiff]:
    """Per-measure differences, in the baseline's order (measures new in the variant last)."""
    before, after = _measure_map(baseline), _measure_map(variant)
    ids = list(before) + [i for i in after if i not in before]
    return [diff_measure(before.get(i), after.get(i)) for i in ids]


def _fact_changes(facts: dict[str, Any], changed: dict[str, Any],
                  changes: Mapping[str, Any]) -> list[FactChange]:
    out = []
    for path in changes:
        group, index, name = _split(path)
        if index == "+":
            out.append(FactChange(path=path, before=None, after=changes[path]))
            continue
        if index is None and name is None:
            out.append(FactChange(path=path, before=_jsonable(facts.get(group)),
                                  after=_jsonable(changed.get(group))))
            continue
        out.append(FactChange(path=path, before=_jsonable(get_fact(facts, path)),
                              after=_jsonable(changes[path])))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value and set(value) <= set(WRAPPER_KEYS):
        value = value["value"]  # a fact given with a source: its value
    return json.loads(json.dumps(value, default=str)) if isinstance(value, list | dict) \
        else value


def what_if(engine: Engine, facts: dict[str, Any], changes: dict[str, Any], as_of: date,
            lang: str = "nb", name: str | None = None) -> WhatIfResult:
    """Evaluate ``facts`` and ``facts`` with ``changes``, and compare the two decisions.

    String values in ``changes`` are parsed by the schema (``"20000"`` for a money
    fact becomes ``Decimal("20000")``); invalid facts raise the engine's
    :class:`~eligibility.errors.FactsError`, a bad path a :class:`ChangeError`.
    Facts given with a source (``{value, source, confirmed}``) or as dated values keep
    that on both sides; each decision then lists its own "confirm before deciding"
    items (a fact the change replaces becomes a plain value: a hypothesis of the
    variant, not something to confirm). The changes show a fact's value on ``as_of``.
    """
    typed = coerce_changes(engine.pack.schema, changes)
    variant_facts = apply_changes(facts, typed)
    baseline = engine.evaluate(facts, as_of=as_of, lang=lang)
    variant = engine.evaluate(variant_facts, as_of=as_of, lang=lang)
    shown = engine.given(facts).at(as_of)
    return WhatIfResult(
        name=name,
        changes=_fact_changes(shown, engine.given(variant_facts).at(as_of), typed),
        baseline=baseline,
        variant=variant,
        measures=compare(baseline, variant),
    )


class WhatIfPeriod(_Model):
    """One sub-period of a what-if over time: both decisions on its first day, how each
    measure differs, and what took effect at its start (on either side)."""

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    baseline: Decision
    variant: Decision
    measures: list[MeasureDiff]
    changes: list[Change] = []

    def changed(self) -> list[MeasureDiff]:
        return [m for m in self.measures if m.changed]


class WhatIfPeriodResult(_Model):
    """A what-if over ``from``..``to``: one :class:`WhatIfPeriod` per sub-period, split
    wherever the baseline or the variant splits (docs/periods.md)."""

    name: str | None = None
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    monthly: bool
    changes: list[FactChange]
    pack_id: str
    pack_version: str
    content_hash: str
    periods: list[WhatIfPeriod]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, by_alias=True)


def what_if_period(engine: Engine, facts: dict[str, Any], changes: dict[str, Any],
                   start: date, end: date, monthly: bool = False, lang: str = "nb",
                   name: str | None = None) -> WhatIfPeriodResult:
    """:func:`what_if` over a period: the baseline and the variant are each decided
    period by period (:meth:`Engine.evaluate_period`), and compared on every
    sub-period of the two splits together. Each side's decision in a sub-period is
    the decision on its first day (re-evaluated where only the other side splits)."""
    typed = coerce_changes(engine.pack.schema, changes)
    variant_facts = apply_changes(facts, typed)
    base = engine.evaluate_period(facts, start, end, monthly, lang)
    var = engine.evaluate_period(variant_facts, start, end, monthly, lang)
    starts = sorted({p.start for p in base.periods} | {p.start for p in var.periods})

    def side(result: PeriodResult, doc: dict[str, Any], when: date) -> tuple[Decision,
                                                                           list[Change]]:
        for period in result.periods:
            if period.start == when:
                return period.decision, list(period.changes)
        return engine.evaluate(doc, as_of=when, lang=lang), []

    periods: list[WhatIfPeriod] = []
    for i, when in enumerate(starts):
        last = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else end
        baseline, changed = side(base, facts, when)
        variant, more = side(var, variant_facts, when)
        changed += [c for c in more if c not in changed]
        periods.append(WhatIfPeriod(start=when, end=last, baseline=baseline, variant=variant,
                                    measures=compare(baseline, variant), changes=changed))
    return WhatIfPeriodResult(
        name=name, start=start, end=end, monthly=monthly,
        changes=_fact_changes(facts, variant_facts, typed),
        pack_id=base.pack_id, pack_version=base.pack_version,
        content_hash=base.content_hash, periods=periods)


# -- scenario files ---------------------------------------------------------


def is_scenario(doc: Any) -> bool:
    """Whether a document is a scenario file (``baseline`` and ``variants``) rather than facts."""
    return isinstance(doc, dict) and "baseline" in doc and "variants" in doc


def _read_facts_file(path: Path) -> Any:
    if not path.exists():
        raise ChangeError(f"the scenario's baseline file {str(path)!r} does not exist")
    try:
        return load_facts_text(read_text_file(path, str(path)), str(path))
    except YamlError as exc:
        raise ChangeError(str(exc.diagnostic)) from None


def load_scenario(doc: Any, schema: FactSchema, base_dir: Path | None = None) -> Scenario:
    """Read a scenario document::

        baseline: fixtures/family.yaml     # or the facts inline
        variants:
          more_income: {set: {members[0].income_month: 30000}}
          new_baby: {set: {"members[+]": {age: 0}}}
          one_less: {remove: ["members[1]"]}
    """
    if not is_scenario(doc):
        raise ChangeError("a scenario file needs `baseline:` (facts or a file) and `variants:`")
    baseline = doc["baseline"]
    if isinstance(baseline, str):
        baseline = _read_facts_file((base_dir or Path(".")) / baseline)
    if not isinstance(baseline, dict):
        raise ChangeError("the scenario's baseline must be facts or the name of a facts file")
    variants_doc = doc["variants"]
    if not isinstance(variants_doc, dict) or not variants_doc:
        raise ChangeError("`variants:` must map a name to {set: {...}, remove: [...]}")
    variants: dict[str, dict[str, Any]] = {}
    for vname, spec in variants_doc.items():
        if not isinstance(spec, dict) or not set(spec) <= {"set", "remove"}:
            raise ChangeError(f"variant {vname!r}: expected {{set: {{path: value}}, "
                              "remove: [path, ...]}")
        changes: dict[str, Any] = {}
        sets = spec.get("set") or {}
        if not isinstance(sets, dict):
            raise ChangeError(f"variant {vname!r}: `set:` must map paths to values")
        changes.update({str(k): v for k, v in sets.items()})
        removes = spec.get("remove") or []
        if isinstance(removes, str):
            removes = [removes]
        if not isinstance(removes, list):
            raise ChangeError(f"variant {vname!r}: `remove:` must be a list of paths")
        for path in removes:
            changes[str(path)] = None
        try:
            variants[str(vname)] = coerce_changes(schema, changes)
        except ChangeError as exc:
            raise ChangeError(f"variant {vname!r}: {exc}") from None
    return Scenario(baseline=baseline, variants=variants)


def compare_scenario(engine: Engine, scenario: Scenario, as_of: date,
                     lang: str = "nb") -> ScenarioResult:
    """Evaluate the baseline once and every variant against it."""
    results = [what_if(engine, scenario.baseline, changes, as_of, lang, name=vname)
               for vname, changes in scenario.variants.items()]
    baseline = results[0].baseline if results else engine.evaluate(
        scenario.baseline, as_of=as_of, lang=lang)
    return ScenarioResult(baseline=baseline, variants=results)


class ScenarioPeriodResult(_Model):
    """Every variant of a scenario compared with the baseline over a period."""

    variants: list[WhatIfPeriodResult]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, by_alias=True)


def compare_scenario_period(engine: Engine, scenario: Scenario, start: date, end: date,
                            monthly: bool = False, lang: str = "nb") -> ScenarioPeriodResult:
    """:func:`what_if_period` for every variant of a scenario."""
    return ScenarioPeriodResult(variants=[
        what_if_period(engine, scenario.baseline, changes, start, end, monthly, lang,
                       name=vname)
        for vname, changes in scenario.variants.items()])
