"""The pack's declared invariants (``invariants.yaml``): format, loading, checking.

:func:`load_invariants` turns the raw YAML the pack loader kept
(``RulePack.invariants``, positions intact) into typed :class:`Invariant`
objects, or raises :class:`~eligibility.errors.PackError` with a
``file:line:column`` diagnostic for every problem: unknown keys or kinds,
missing keys, facts that do not exist, values that do not fit a fact, and
expressions that do not parse or type-check. Expressions are parsed by
:func:`eligibility.expr.parser.parse` and checked against the pack's names plus
the *outputs* an invariant may read: ``measures.<id>.status``,
``measures.<id>.eligible``, ``measures.<id>.amount`` and ``criteria.<id>``.
The format is documented in ``docs/rule-authoring.md`` ("invariants.yaml").
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from eligibility.errors import Diagnostic, PackError
from eligibility.expr import ast
from eligibility.expr.parser import ExprSyntaxError, parse
from eligibility.expr.types import (
    BOOL,
    DATE,
    MEMBERS,
    Checker,
    ExprTypeError,
    Names,
    ParamInfo,
    Type,
)
from eligibility.pack.loader import _param_type, field_type
from eligibility.pack.model import Expr, FieldSpec, RulePack, Source, Text
from eligibility.pack.yamlio import LocStr, Mark, plain

KINDS = ("monotone", "implies", "excludes", "bounds", "always")
STATUS_TYPE = Type("enum", values=("eligible", "not_eligible", "undetermined"))
DEFAULT_EXAMPLES = 100

_COMMON = {"title", "kind", "when", "given", "facts", "as_of", "sources", "source", "note",
           "examples"}
_KEYS: Mapping[str, set[str]] = {
    "monotone": _COMMON | {"output", "input", "add_member", "never"},
    "implies": _COMMON | {"if", "then"},
    "excludes": _COMMON | {"conditions"},
    "bounds": _COMMON | {"output", "min", "max"},
    "always": _COMMON | {"check"},
}


@dataclass(frozen=True)
class Invariant:
    """One declared property of the pack (see module docstring)."""

    id: str
    kind: str
    title: Text
    mark: Mark
    exprs: Mapping[str, Expr]  # when / output / if / then / min / max / check / conditions.N
    given: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True
    as_of: tuple[date | None, date | None] = (None, None)
    input: FieldSpec | None = None
    add_member: Mapping[str, Any] | None = None
    never: str | None = None  # "rises" | "falls"
    sources: tuple[Source, ...] = ()
    examples: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class InvariantSet:
    """Every invariant of a pack, and the file's settings."""

    invariants: tuple[Invariant, ...]
    examples: int = DEFAULT_EXAMPLES
    file: str | None = None
    #: outputs (``criteria.x``, ``measures.y``) information monotonicity does not check
    information_exempt: frozenset[str] = frozenset()


def output_names(pack: RulePack) -> dict[str, Type]:
    """The outputs an invariant expression may read, with their types."""
    names: dict[str, Type] = {}
    for m in pack.measures:
        names[f"measures.{m.id}.status"] = STATUS_TYPE
        names[f"measures.{m.id}.eligible"] = BOOL
        if m.amount is not None:
            names[f"measures.{m.id}.amount"] = Type("num", m.amount.unit)
    for c in pack.criteria:
        names[f"criteria.{c.id}"] = c.expr.type
    return names


def checker_names(pack: RulePack) -> Names:
    """The names table for invariant expressions: facts, parameters and outputs."""
    names: dict[str, Type] = {"as_of": DATE}
    members: dict[str, Type] = {}
    for group in pack.schema.groups.values():
        if group.is_list:
            names[group.name] = MEMBERS
            members = {n: field_type(s) for n, s in group.fields.items()}
            continue
        for spec in group.fields.values():
            names[spec.path] = field_type(spec)
    names.update(output_names(pack))
    params = {name: ParamInfo(_param_type(p), p.keys) for name, p in pack.parameters.items()}
    return Names(names, members, params)


class _Reader:
    def __init__(self, pack: RulePack, file: str) -> None:
        self.pack = pack
        self.file = file
        self.diags: list[Diagnostic] = []
        self.names = checker_names(pack)

    def error(self, mark: Mark, message: str, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(mark.file, mark.line, mark.column, message, hint))

    def mark(self, value: Any, default: Mark) -> Mark:
        return getattr(value, "mark", default)

    def key_mark(self, container: Any, key: str, default: Mark) -> Mark:
        marks = getattr(container, "key_marks", None)
        return marks.get(key, default) if marks else default

    # -- expressions -------------------------------------------------------
    def expr(self, raw: Any, mark: Mark, expect: str | None) -> Expr | None:
        if isinstance(raw, bool):
            raw_text = "true" if raw else "false"
        elif isinstance(raw, int | Decimal):
            raw_text = str(raw)
        elif isinstance(raw, str):
            raw_text = raw
        else:
            self.error(mark, f"expected an expression, got {type(raw).__name__}")
            return None
        text = raw if isinstance(raw, LocStr) else LocStr(raw_text)
        if not isinstance(raw, LocStr):
            text.mark = mark
        try:
            node = parse(str(text))
            typ = Checker(self.names).check(node)
        except (ExprSyntaxError, ExprTypeError) as exc:
            where = text.position(exc.offset) if getattr(text, "segments", None) else mark
            snippet = str(text).strip().replace("\n", " ")
            self.error(where, f"{exc.message} in `{snippet[:60]}`", exc.hint)
            return None
        if expect == "bool" and typ.kind != "bool":
            self.error(mark, f"this expression must give true/false, but gives {typ.describe()}")
            return None
        if expect == "ordered" and typ.kind not in ("num", "bool", "date"):
            self.error(mark, f"this output must be a number, true/false or a date, "
                             f"but is {typ.describe()}")
            return None
        if expect == "num" and typ.kind != "num":
            self.error(mark, f"this expression must give a number, but gives {typ.describe()}")
            return None
        return Expr(str(text), node, typ, mark)

    # -- facts -------------------------------------------------------------
    def fact(self, path: Any, mark: Mark) -> FieldSpec | None:
        spec = self.pack.schema.field(str(path)) if isinstance(path, str) else None
        if spec is None:
            pool = [f.path for f in self.pack.schema.all_fields()]
            close = difflib.get_close_matches(str(path), pool, n=1)
            self.error(mark, f"unknown fact {path!r}",
                       f"did you mean {close[0]!r}?" if close else None)
        return spec

    def value_fits(self, spec: FieldSpec, value: Any, mark: Mark) -> Any:
        value = plain(value)
        ok: bool
        if spec.kind == "bool":
            ok = isinstance(value, bool)
        elif spec.kind == "enum":
            ok = value in (spec.values or ())
        elif spec.kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif spec.kind in ("number", "money"):
            ok = isinstance(value, int | Decimal) and not isinstance(value, bool)
            value = Decimal(value) if ok else value
        elif spec.kind == "date":
            ok = isinstance(value, date)
        else:
            ok = isinstance(value, str)
        if ok and spec.kind in ("int", "number", "money"):
            if spec.minimum is not None and value < spec.minimum:
                ok = False
            if spec.maximum is not None and value > spec.maximum:
                ok = False
        if not ok:
            expected = f"one of {', '.join(spec.values or ())}" if spec.kind == "enum" \
                else spec.kind
            self.error(mark, f"{value!r} does not fit the fact {spec.path} ({expected}"
                             + (f", {spec.minimum} to {spec.maximum}"
                                if spec.minimum is not None or spec.maximum is not None else "")
                             + ")")
        return value

    # -- one invariant -----------------------------------------------------
    def invariant(self, iid: str, raw: Any, mark: Mark) -> Invariant | None:
        if not isinstance(raw, dict):
            self.error(mark, f"invariant {iid!r} must be a mapping of keys")
            return None
        kind = raw.get("kind")
        if kind not in KINDS:
            self.error(self.mark(kind, mark) if kind is not None else mark,
                       f"invariant {iid!r}: kind must be one of {', '.join(KINDS)}"
                       + (f", got {kind!r}" if kind is not None else ""))
            return None
        for key in raw:
            if key not in _KEYS[kind]:
                close = difflib.get_close_matches(str(key), sorted(_KEYS[kind]), n=1)
                self.error(self.key_mark(raw, key, mark),
                           f"invariant {iid!r}: unknown key {key!r} for kind {kind}",
                           f"did you mean {close[0]!r}?" if close else None)
        title = self.title(raw.get("title"), iid, mark)
        exprs: dict[str, Expr] = {}

        def need(key: str, expect: str | None) -> None:
            if key not in raw:
                self.error(mark, f"invariant {iid!r} ({kind}) needs `{key}`")
                return
            e = self.expr(raw[key], self.key_mark(raw, key, mark), expect)
            if e is not None:
                exprs[key] = e

        if "when" in raw:
            need("when", "bool")
        input_spec: FieldSpec | None = None
        add_member: dict[str, Any] | None = None
        never: str | None = None
        if kind == "monotone":
            need("output", "ordered")
            never = str(raw.get("never", ""))
            if never not in ("rises", "falls"):
                self.error(self.key_mark(raw, "never", mark),
                           f"invariant {iid!r}: `never` must be rises or falls")
            if ("input" in raw) == ("add_member" in raw):
                self.error(mark, f"invariant {iid!r}: give exactly one of `input` "
                                 "(a fact that rises) or `add_member`")
            elif "input" in raw:
                input_spec = self.fact(raw["input"], self.key_mark(raw, "input", mark))
                if input_spec is not None and input_spec.kind not in (
                        "int", "number", "money", "bool", "date"):
                    self.error(self.key_mark(raw, "input", mark),
                               f"`input` {input_spec.path} must be a number, an amount, "
                               f"true/false or a date (it is {input_spec.kind})")
                    input_spec = None
            else:
                add_member = self.add_member(raw["add_member"],
                                             self.key_mark(raw, "add_member", mark))
        elif kind == "implies":
            need("if", "bool")
            need("then", "bool")
        elif kind == "excludes":
            conditions = raw.get("conditions")
            cmark = self.key_mark(raw, "conditions", mark)
            if not isinstance(conditions, list) or len(conditions) < 2:
                self.error(cmark, f"invariant {iid!r}: `conditions` must list at least two "
                                  "expressions that are never true together")
            else:
                for i, c in enumerate(conditions):
                    e = self.expr(c, self.mark(c, cmark), "bool")
                    if e is not None:
                        exprs[f"conditions.{i}"] = e
        elif kind == "bounds":
            need("output", "num")
            if "min" not in raw and "max" not in raw:
                self.error(mark, f"invariant {iid!r}: bounds need `min`, `max` or both")
            for key in ("min", "max"):
                if key in raw:
                    need(key, "num")
        else:
            need("check", "bool")
        given = self.given(raw.get("given"), self.key_mark(raw, "given", mark))
        facts = raw.get("facts", "complete")
        if facts not in ("complete", "partial"):
            self.error(self.key_mark(raw, "facts", mark), "`facts` must be complete or partial")
        as_of = self.as_of(raw.get("as_of"), self.key_mark(raw, "as_of", mark))
        examples = raw.get("examples")
        if examples is not None and (not isinstance(examples, int) or examples < 1):
            self.error(self.key_mark(raw, "examples", mark), "`examples` must be a whole "
                                                             "number above 0")
            examples = None
        return Invariant(
            id=iid, kind=kind, title=title, mark=mark, exprs=exprs, given=given,
            complete=facts != "partial", as_of=as_of, input=input_spec,
            add_member=add_member, never=never, sources=self.sources(raw, mark),
            examples=examples, note=str(raw["note"]) if raw.get("note") else None,
        )

    def title(self, raw: Any, iid: str, mark: Mark) -> Text:
        if isinstance(raw, dict) and isinstance(raw.get("nb"), str) \
                and isinstance(raw.get("en"), str):
            return Text(str(raw["nb"]), str(raw["en"]))
        self.error(self.mark(raw, mark), f"invariant {iid!r} needs a title "
                                         "{nb: \"...\", en: \"...\"}")
        return Text(iid, iid)

    def sources(self, raw: Mapping[str, Any], mark: Mark) -> tuple[Source, ...]:
        items = list(raw.get("sources") or []) + ([raw["source"]] if raw.get("source") else [])
        out = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("ref"), str):
                self.error(self.mark(item, mark), "a source is {ref: \"...\", url: \"...\"}")
                continue
            out.append(Source(str(item["ref"]), str(item["url"]) if item.get("url") else None))
        return tuple(out)

    def given(self, raw: Any, mark: Mark) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error(mark, "`given` maps facts to fixed values, e.g. {housing.tenure: leie}")
            return {}
        out: dict[str, Any] = {}
        for path, value in raw.items():
            pmark = self.key_mark(raw, path, mark)
            spec = self.fact(path, pmark)
            if spec is not None:
                out[spec.path] = self.value_fits(spec, value, self.mark(value, pmark))
        return out

    def add_member(self, raw: Any, mark: Mark) -> dict[str, Any] | None:
        member_group = next((g for g in self.pack.schema.groups.values() if g.is_list), None)
        if member_group is None:
            self.error(mark, "`add_member` needs a `members` list in the fact schema")
            return None
        if not isinstance(raw, dict):
            self.error(mark, "`add_member` maps member fields to a value or {min, max}")
            return None
        out: dict[str, Any] = {}
        for name, value in raw.items():
            fmark = self.key_mark(raw, name, mark)
            spec = member_group.fields.get(str(name))
            if spec is None:
                self.fact(f"members.{name}", fmark)
                continue
            if isinstance(value, dict):
                extra = set(value) - {"min", "max"}
                if extra:
                    self.error(fmark, f"a range is {{min: ..., max: ...}}, not {sorted(extra)}")
                lo = self.value_fits(spec, value["min"], fmark) if "min" in value else None
                hi = self.value_fits(spec, value["max"], fmark) if "max" in value else None
                out[str(name)] = ("range", lo, hi)
            else:
                out[str(name)] = ("value", self.value_fits(spec, value, fmark))
        return out

    def as_of(self, raw: Any, mark: Mark) -> tuple[date | None, date | None]:
        if raw is None:
            return None, None
        if isinstance(raw, date):
            return raw, raw
        if isinstance(raw, dict) and set(raw) <= {"from", "to"} and all(
                isinstance(v, date) for v in raw.values()):
            start, end = raw.get("from"), raw.get("to")
            if start and end and start > end:
                self.error(mark, "`as_of`: from is after to")
            return start, end
        self.error(mark, "`as_of` is a date or {from: YYYY-MM-DD, to: YYYY-MM-DD}")
        return None, None


def load_invariants(pack: RulePack) -> InvariantSet:
    """The pack's declared invariants; :class:`PackError` with file:line on any problem."""
    raw = pack.invariants
    file = str(pack.root / "invariants.yaml")
    if raw is None:
        return InvariantSet((), DEFAULT_EXAMPLES, None)
    top = getattr(raw, "mark", Mark(file, 1, 1))
    file = top.file
    reader = _Reader(pack, file)
    if not isinstance(raw, dict):
        reader.error(top, "invariants.yaml must be a mapping with `invariants:`")
        raise PackError(reader.diags)
    for key in raw:
        if key not in ("invariants", "settings"):
            reader.error(reader.key_mark(raw, key, top),
                         f"unknown key {key!r} (expected invariants, settings)")
    examples = DEFAULT_EXAMPLES
    exempt: set[str] = set()
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict) or set(settings) - {"examples", "information_exempt"}:
        reader.error(reader.mark(settings, top),
                     "`settings` takes `examples` and `information_exempt`")
        settings = {}
    known_outputs = {f"criteria.{c.id}" for c in pack.criteria} | {
        f"measures.{m.id}" for m in pack.measures}
    for item in settings.get("information_exempt") or []:
        if str(item) not in known_outputs:
            reader.error(reader.mark(item, top), f"`information_exempt`: {item!r} is not "
                                                 "criteria.<id> or measures.<id> of this pack")
        exempt.add(str(item))
    if "examples" in settings:
        if isinstance(settings["examples"], int) and settings["examples"] > 0:
            examples = settings["examples"]
        else:
            reader.error(reader.key_mark(settings, "examples", top),
                         "`examples` must be a whole number above 0")
    body = raw.get("invariants") or {}
    invariants = []
    if not isinstance(body, dict):
        reader.error(reader.mark(body, top), "`invariants` maps invariant ids to definitions")
    else:
        for iid, definition in body.items():
            imark = reader.key_mark(body, iid, top)
            if not isinstance(iid, str) or not iid.isidentifier():
                reader.error(imark, f"{iid!r} is not a valid invariant id (letters, digits, _)")
                continue
            inv = reader.invariant(iid, definition, imark)
            if inv is not None:
                invariants.append(inv)
    if reader.diags:
        raise PackError(reader.diags)
    return InvariantSet(tuple(invariants), examples, file, frozenset(exempt))


def referenced_measures(inv: Invariant) -> list[str]:
    """Measure ids whose outputs the invariant reads (for traces)."""
    found: list[str] = []
    for e in inv.exprs.values():
        for node in ast.walk(e.node):
            if isinstance(node, ast.Name) and node.parts[0] == "measures" \
                    and len(node.parts) == 3 and node.parts[1] not in found:
                found.append(node.parts[1])
    return found


def referenced_criteria(inv: Invariant) -> list[str]:
    """Criterion ids the invariant reads (for traces)."""
    found: list[str] = []
    for e in inv.exprs.values():
        for node in ast.walk(e.node):
            if isinstance(node, ast.Name) and node.parts[0] == "criteria" \
                    and len(node.parts) == 2 and node.parts[1] not in found:
                found.append(node.parts[1])
    return found
