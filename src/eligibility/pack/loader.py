"""Load a rule pack from its folder: read, validate, check, and build the IR.

:func:`load_pack` reads every YAML file of a pack safely, validates each against
its file model (:mod:`eligibility.pack.files`), parses and type-checks every
expression against the fact schema, parameters and criteria, runs the static
checks (dates, cycles, duplicates, units, goals) and returns an immutable
:class:`~eligibility.pack.model.RulePack`. It collects every problem it can find
before it gives up, and raises one :class:`~eligibility.errors.PackError` that
lists them all with file, line and column.
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import itertools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from eligibility.errors import Diagnostic, PackError
from eligibility.expr import ast
from eligibility.expr.parser import ExprSyntaxError, parse
from eligibility.expr.types import (
    BOOL,
    DATE,
    MEMBERS,
    STR,
    Checker,
    ExprTypeError,
    Names,
    ParamInfo,
    Type,
)
from eligibility.options import LANGUAGES
from eligibility.pack import files as f
from eligibility.pack.bundled import RULES_ENV, available_packs, find_pack
from eligibility.pack.model import (
    Amount,
    Case,
    Criterion,
    Expr,
    FactSchema,
    FieldSpec,
    GroupSpec,
    Measure,
    PackMeta,
    Parameter,
    ParamVersion,
    PriorityRule,
    Requirement,
    RuleException,
    RulePack,
    Source,
    Step,
    Text,
)
from eligibility.pack.sets import set_diagnostics
from eligibility.pack.yamlio import (
    LocStr,
    Mark,
    MarkedDict,
    YamlError,
    load_yaml_text,
    plain,
    read_text_file,
)

M = TypeVar("M", bound=BaseModel)

_HASHED_DIRS = ("parameters", "criteria", "measures")


def resolve_pack_dir(name_or_path: str | os.PathLike[str]) -> Path:
    """A pack folder from a path, or from a pack's name (e.g. ``"no"``): see
    :mod:`eligibility.pack.bundled` for where names are looked up."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    name = str(name_or_path)
    found = find_pack(name)
    if found is not None:
        return found
    known = ", ".join(dict.fromkeys(p.name for p in available_packs())) or "none"
    raise PackError([Diagnostic(
        name, 1, 1, "no rule pack here: expected a folder with pack.yaml, or the name of a "
        f"bundled pack or one in ${RULES_ENV} (known: {known})")])


def load_pack(name_or_path: str | os.PathLike[str], *, full: bool = False) -> RulePack:
    """Load and check a rule pack; raise :class:`PackError` listing every problem.

    ``cases/`` and ``invariants.yaml`` are read when first asked for
    (:attr:`RulePack.cases`, :attr:`RulePack.invariants`), so an Engine does not pay
    for them; ``full=True`` (what ``eligibility check`` uses) reads and checks them
    now and reports their problems together with the rest of the pack's.
    """
    root = resolve_pack_dir(name_or_path)
    with collector_paused():
        return _Loader(root).load(full=full)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a pack loads or compiles. Both allocate tens of
    thousands of small objects without reference cycles (freed by reference counting as
    usual); each collection they trigger would also walk everything the imports left
    alive, about a fifth of the load's CPU time. The collector is resumed afterwards
    (unless it was off before)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_cases(pack: RulePack) -> tuple[Case, ...]:
    """The pack's ``cases/`` (:class:`PackError` with file:line on any problem)."""
    loader = _Loader(pack.root)
    cases = loader.load_cases(list(pack.measures), list(pack.criteria))
    if loader.diags:
        raise PackError(loader.diags)
    return tuple(cases)


def load_invariants_document(pack: RulePack) -> Any:
    """The pack's ``invariants.yaml`` as read (positions intact), or ``None``."""
    loader = _Loader(pack.root, pack.meta.languages)
    raw = loader.read_optional(pack.root / "invariants.yaml")
    if loader.diags:
        raise PackError(loader.diags)
    return raw


class _Loader:
    def __init__(self, root: Path, languages: tuple[str, ...] = ()) -> None:
        self.root = root
        # the languages pack.yaml promises: once known, every text read is held to them
        self.languages = languages
        self.real_root = root.resolve()
        self.diags: list[Diagnostic] = []
        self.unreadable = False  # a parameter or criteria file could not be read
        self.texts: dict[Path, str] = {}  # every file read, for the content hash

    # -- plumbing ----------------------------------------------------------
    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def error(self, mark: Mark, message: str, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(mark.file, mark.line, mark.column, message, hint))

    def inside(self, path: Path) -> bool:
        """Whether ``path`` (after every symlink) lies inside the pack folder; if not,
        the problem is recorded."""
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            self.error(Mark(self.rel(path), 1, 1), "the path cannot be resolved "
                                                   "(a symlink loop?)")
            return False
        if real != self.real_root and not real.is_relative_to(self.real_root):
            self.error(Mark(self.rel(path), 1, 1), "the path leads outside the pack folder "
                                                   "(a symlink?); a pack reads only its own "
                                                   "files")
            return False
        return True

    def read(self, path: Path) -> Any:
        """One YAML file of the pack, or ``None`` when it cannot be used (recorded)."""
        name = self.rel(path)
        if not self.inside(path):
            return None
        try:
            text = read_text_file(path, name)
            raw = load_yaml_text(text, name)
        except YamlError as exc:
            self.diags.append(exc.diagnostic)
            return None
        self.texts[path] = text
        if raw is None:
            self.error(Mark(name, 1, 1), "the file is empty (or holds only comments)")
        self.check_languages(raw, name)
        return raw

    def check_languages(self, raw: Any, file: str) -> None:
        """An error for every text (a ``{nb, en}`` mapping) of ``raw`` that lacks one of
        the languages the pack declares in pack.yaml's ``languages``."""
        if not self.languages:
            return
        for text in _texts(raw):
            missing = [lang for lang in self.languages if lang not in text]
            if missing:
                mark = _mark(text, file)
                names = ", ".join(_LANGUAGE_NAMES.get(m, m) for m in missing)
                self.error(mark, f"this text has no {names}, but pack.yaml declares "
                                 f"languages: [{', '.join(self.languages)}]",
                           f"add {', '.join(f'{m}: ...' for m in missing)} beside nb, or "
                           "drop the language from pack.yaml's languages")

    def read_optional(self, path: Path) -> Any:
        """Like :meth:`read` for a file the pack may leave out."""
        return self.read(path) if os.path.lexists(path) else None

    def folder_files(self, folder: str) -> list[Path]:
        """The ``*.yaml`` files of one of the pack's folders, in name order; a folder or
        file that leads outside the pack is recorded and left out."""
        base = self.root / folder
        if not os.path.lexists(base) or not self.inside(base):
            return []
        if not base.is_dir():
            self.error(Mark(self.rel(base), 1, 1), f"{folder} must be a folder")
            return []
        try:
            names = sorted(e.name for e in os.scandir(base) if e.name.endswith(".yaml"))
        except OSError as exc:
            self.error(Mark(self.rel(base), 1, 1), f"cannot list the folder: {exc.strerror}")
            return []
        return [base / n for n in names]

    def validate(self, model: type[M], data: Any, mark: Mark) -> M | None:
        if not isinstance(data, dict):
            self.error(mark, f"expected a mapping of keys, got {type(data).__name__}")
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                self.diags.append(_pydantic_diag(err, data, mark, model))
            return None

    def entries(self, folder: str, keys: str) -> Iterator[tuple[Path, str, Any, Any, Mark]]:
        """Each ``key: definition`` of every YAML file in ``folder`` (file order, then key
        order), with the file, its display name and the key's position. A file that
        cannot be read marks the pack as unreadable (its names would be missing)."""
        for path in self.folder_files(folder):
            raw = self.read(path)
            if raw is None:
                self.unreadable = True
                continue
            file = self.rel(path)
            fmark = _mark(raw, file)
            if not isinstance(raw, dict):
                self.error(fmark, f"a {folder} file maps {keys} to definitions")
                continue
            for key, value in raw.items():
                yield path, file, key, value, _key_mark(raw, key, fmark)

    def documents(self, folder: str, model: type[M]) -> Iterator[tuple[Any, str, Mark, M]]:
        """Each YAML file of ``folder`` that reads and validates as one ``model``
        document, with its display name and position (problems are recorded)."""
        for path in self.folder_files(folder):
            raw = self.read(path)
            if raw is None:
                continue
            file = self.rel(path)
            fmark = _mark(raw, file)
            validated = self.validate(model, raw, fmark)
            if validated is not None:
                yield raw, file, fmark, validated

    # -- the whole pack ----------------------------------------------------
    def load(self, full: bool = False) -> RulePack:
        root = self.root
        pack_path = root / "pack.yaml"
        if not os.path.lexists(pack_path):
            raise PackError([Diagnostic(self.rel(root), 1, 1, "no pack.yaml in this folder")])
        pack_raw = self.read(pack_path)
        facts_path = root / "facts.yaml"
        facts_raw = self.read_optional(facts_path)
        if not os.path.lexists(facts_path):
            self.error(Mark(self.rel(facts_path), 1, 1), "missing facts.yaml (the fact schema)")
        if self.diags:
            raise PackError(self.diags)
        meta_model = self.validate(f.PackFile, pack_raw, _mark(pack_raw, self.rel(pack_path)))
        facts_model = self.validate(f.FactsFile, facts_raw, _mark(facts_raw, self.rel(facts_path)))
        if meta_model is None or facts_model is None:
            raise PackError(self.diags)
        if self.declared_languages(meta_model, pack_raw, self.rel(pack_path)):
            self.check_languages(pack_raw, self.rel(pack_path))
            self.check_languages(facts_raw, self.rel(facts_path))
        meta = self.build_meta(meta_model)
        schema = self.build_schema(facts_model, facts_raw)
        params = self.load_parameters(meta)
        if self.unreadable:
            # names from a file that could not be read would be reported as unknown
            # everywhere: report the unreadable files first
            raise PackError(self.diags)
        names = self.base_names(schema)
        param_infos = {name: ParamInfo(_param_type(p), p.keys) for name, p in params.items()}
        criteria = self.load_criteria(names, schema, param_infos)
        if self.unreadable:
            raise PackError(self.diags)
        for c in criteria:
            names[f"criteria.{c.id}"] = c.expr.type
        measures = self.load_measures(meta, names, schema, param_infos)
        cases: list[Case] = []
        invariants = None
        if full:
            cases = self.load_cases(measures, criteria)
            invariants = self.read_optional(root / "invariants.yaml")
        if self.diags:
            raise PackError(self.diags)
        hashed = self.hashed_files()
        pack = RulePack(
            root=root,
            meta=meta,
            schema=schema,
            parameters=MappingProxyType(params),
            criteria=tuple(criteria),
            measures=tuple(measures),
            content_hash=_content_hash(root, hashed, self.texts),
            files=tuple(str(p.relative_to(root)) for p in hashed),
        )
        set_diags = set_diagnostics(pack)  # no formula splices parameter sets
        if set_diags:
            raise PackError(set_diags)
        if full:
            pack.preload(tuple(cases), invariants)
        return pack

    def hashed_files(self) -> list[Path]:
        """The files the content hash covers: exactly the rule files that were read."""
        paths = [self.root / "pack.yaml", self.root / "facts.yaml"]
        for sub in _HASHED_DIRS:
            paths.extend(p for p in sorted(self.texts) if p.parent == self.root / sub)
        return paths

    # -- pack.yaml and facts.yaml -----------------------------------------
    def declared_languages(self, m: f.PackFile, raw: Any, file: str) -> bool:
        """Take pack.yaml's ``languages`` as the ones every text must have; ``False``
        (recorded) when they name a language texts cannot hold or leave out nb/en."""
        where = _mark(raw.get("languages"), file, _key_mark(raw, "languages", _mark(raw, file)))
        unknown = [lang for lang in m.languages if lang not in LANGUAGES]
        if unknown:
            self.error(where, f"languages: unknown language {unknown[0]!r}",
                       f"a text can hold {', '.join(LANGUAGES)}")
            return False
        lacking = [lang for lang in ("nb", "en") if lang not in m.languages]
        if lacking:
            self.error(where, f"languages must include {' and '.join(lacking)} (every text "
                              "has bokmål and English)")
            return False
        self.languages = tuple(lang for lang in LANGUAGES if lang in m.languages)
        return True

    def build_meta(self, m: f.PackFile) -> PackMeta:
        return PackMeta(
            id=m.id,
            title=_text(m.title),
            version=m.version,
            languages=tuple(m.languages),
            valid_from=m.valid_from,
            valid_to=m.valid_to,
            goals=MappingProxyType({k: _text(v) for k, v in m.goals.items()}),
            sources=tuple(_source(s) for s in m.sources),
            jurisdiction=m.jurisdiction,
            description=_text(m.description) if m.description else None,
            fact_sources=tuple(m.fact_sources),
        )

    def build_schema(self, m: f.FactsFile, raw: Any) -> FactSchema:
        groups: dict[str, GroupSpec] = {}
        reserved = {"criteria", "as_of", "amount", "param"}
        for gname, g in m.groups.items():
            gmark = _key_mark(raw.get("groups"), gname, _mark(raw, "facts.yaml"))
            if gname in reserved or not gname.isidentifier() or gname.startswith("_"):
                self.error(gmark, f"{gname!r} cannot be a fact group name")
            fields: dict[str, FieldSpec] = {}
            raw_fields = raw.get("groups", {}).get(gname, {}).get("fields", {})
            for fname, fm in g.fields.items():
                fmark = _key_mark(raw_fields, fname, gmark)
                if not fname.isidentifier() or fname.startswith("_"):
                    self.error(fmark, f"{fname!r} is not a valid field name")
                if fm.type == "enum" and not fm.values:
                    self.error(fmark, f"enum field {fname!r} needs `values`")
                if fm.type != "enum" and fm.values:
                    self.error(fmark, f"only enum fields take `values` ({fname!r} is {fm.type})")
                if fm.type == "money" and not fm.unit:
                    self.error(fmark, f"money field {fname!r} needs a unit (NOK, NOK/month, ...)")
                fields[fname] = FieldSpec(
                    path=f"{gname}.{fname}",
                    group=gname,
                    name=fname,
                    kind=fm.type,
                    title=_text(fm.title),
                    unit=fm.unit,
                    values=tuple(fm.values) if fm.values else None,
                    minimum=fm.min,
                    maximum=fm.max,
                    required=fm.required,
                    changeable=fm.changeable,
                    question=_text(fm.question) if fm.question else None,
                    in_list=g.list,
                )
            groups[gname] = GroupSpec(gname, _text(g.title), g.list,
                                      MappingProxyType(fields), g.max_items)
        lists = [g for g in groups.values() if g.is_list]
        if len(lists) > 1 or (lists and lists[0].name != "members"):
            self.error(_mark(raw, "facts.yaml"),
                       "the only list group is `members` (one list of household members)")
        return FactSchema(MappingProxyType(groups))

    def base_names(self, schema: FactSchema) -> dict[str, Type]:
        names: dict[str, Type] = {"as_of": DATE}
        for group in schema.groups.values():
            if group.is_list:
                names[group.name] = MEMBERS
                continue
            for spec in group.fields.values():
                names[spec.path] = field_type(spec)
        return names

    # -- parameters --------------------------------------------------------
    def load_parameters(self, meta: PackMeta) -> dict[str, Parameter]:
        params: dict[str, Parameter] = {}
        for path, _, pname, praw, pmark in self.entries("parameters", "parameter names"):
            namespace = path.stem
            model = self.validate(f.ParamModel, praw, pmark)
            if model is None:
                self.unreadable = True
                continue
            name = f"{namespace}.{pname}"
            param = self.build_parameter(name, model, praw, pmark, meta)
            if param is not None:
                params[name] = param
        return params

    def build_parameter(self, name: str, m: f.ParamModel, raw: Any, mark: Mark,
                        meta: PackMeta) -> Parameter | None:
        sources = _sources(m.source, m.sources)
        if not sources:
            self.error(mark, f"parameter {name!r} cites no source", "add `source: {ref: ...}`")
        raw_values = raw.get("values") if isinstance(raw, dict) else None
        versions: list[ParamVersion] = []
        previous: date | None = None
        shapes: set[Any] = set()
        for when, value in m.values.items():
            vmark = _key_mark(raw_values, when, mark)
            if previous is not None and when <= previous:
                self.error(vmark, f"parameter {name!r}: dates must be in increasing order "
                                  f"({when} comes after {previous})")
            previous = when
            version_meta: dict[str, Any] = {}
            if isinstance(value, dict) and "value" in value:
                vm = self.validate(f.ParamVersionModel, value, vmark)
                if vm is None:
                    continue
                value = vm.value
                version_meta = {"source": _source(vm.source) if vm.source else None,
                                "unconfirmed": vm.unconfirmed, "note": vm.note,
                                "set": vm.set_, "confirmed_until": vm.confirmed_until}
            normal = self.normal_value(name, value, len(m.keys), vmark)
            if normal is _BAD:
                continue
            if isinstance(normal, Mapping):
                shapes.add(_table_shape(normal))
            versions.append(ParamVersion(when, normal, **version_meta))
        if len(shapes) > 1:
            self.error(mark, f"parameter {name!r}: its dated tables have different keys")
        untagged = [v.valid_from for v in versions if v.set is None and v.value is not None]
        if len(untagged) < len([v for v in versions if v.value is not None]) and untagged:
            self.error(_key_mark(raw_values, untagged[0], mark),
                       f"parameter {name!r}: the version of {untagged[0]} has no `set:` "
                       "while others have one", "tag every version of a parameter, or none")
        if versions:
            first = versions[0].valid_from
            if first > meta.valid_from:
                self.error(
                    _key_mark(raw_values, first, mark),
                    f"parameter {name!r} starts on {first}, after the pack's valid_from "
                    f"{meta.valid_from}: a gap",
                    "add a value from the pack's start, or move the pack's valid_from",
                )
            for before, after in itertools.pairwise(versions):
                if before.value is None and after.value is not None:
                    self.error(
                        _key_mark(raw_values, after.valid_from, mark),
                        f"parameter {name!r} is closed on {before.valid_from} and reopened "
                        f"on {after.valid_from}: a gap",
                    )
        return Parameter(
            name=name,
            unit=m.unit,
            keys=tuple(m.keys),
            versions=tuple(versions),
            sources=sources,
            title=_text(m.title) if m.title else None,
            unconfirmed=m.unconfirmed,
            note=m.note,
        )

    def normal_value(self, name: str, value: Any, depth: int, mark: Mark) -> Any:
        if value is None:
            return None
        if depth == 0:
            if isinstance(value, dict | list):
                self.error(mark, f"parameter {name!r} has no `keys`, so each value must be "
                                 "a single number, text or true/false")
                return _BAD
            if isinstance(value, LocStr):
                return str(value)
            return value
        if not isinstance(value, dict) or not value:
            self.error(mark, f"parameter {name!r} is a table: each dated value must map "
                             "keys to values")
            return _BAD
        table: dict[Any, Any] = {}
        for key, sub in value.items():
            normal = self.normal_value(name, sub, depth - 1, _key_mark(value, key, mark))
            if normal is _BAD:
                return _BAD
            table[str(key) if isinstance(key, LocStr) else key] = normal
        return MappingProxyType(table)

    # -- criteria -----------------------------------------------------------
    def load_criteria(self, names: dict[str, Type], schema: FactSchema,
                      params: Mapping[str, ParamInfo]) -> list[Criterion]:
        parsed: dict[str, tuple[f.CriterionModel, ast.Node, LocStr | str, Mark, str]] = {}
        order: list[str] = []
        for _, file, cid, craw, cmark in self.entries("criteria", "criterion ids"):
            if not isinstance(cid, str) or not cid.isidentifier() or cid.startswith("_"):
                self.error(cmark, f"{cid!r} is not a valid criterion id")
                continue
            model = self.validate(f.CriterionModel, craw, cmark)
            if model is None:
                self.unreadable = True
                continue
            if cid in parsed:
                other = parsed[cid][3]
                self.error(cmark, f"duplicate criterion id {cid!r} "
                                  f"(also at {other.file}:{other.line})")
                continue
            node = self.parse_expr(model.value, cmark)
            if node is None:
                continue
            if not _sources(model.source, model.sources):
                self.error(cmark, f"criterion {cid!r} cites no source")
            parsed[cid] = (model, node, model.value, cmark, file)
            order.append(cid)
        # dependency order, with cycle detection
        deps = {cid: _criteria_refs(item[1]) for cid, item in parsed.items()}
        done: dict[str, Type] = {}
        result: dict[str, Criterion] = {}
        state: dict[str, int] = {}
        checker_names = dict(names)
        member_fields = _member_fields(schema)

        def visit(cid: str, stack: list[str]) -> None:
            if state.get(cid) == 2:
                return
            if state.get(cid) == 1:
                cycle = [*stack[stack.index(cid):], cid]
                self.error(parsed[cid][3], "cycle between criteria: " + " -> ".join(cycle))
                return
            state[cid] = 1
            for dep in sorted(deps[cid]):
                if dep in parsed:
                    visit(dep, [*stack, cid])
            state[cid] = 2
            model, node, text, cmark, file = parsed[cid]
            checker = Checker(Names(checker_names, member_fields, params))
            try:
                t = checker.check(node)
            except ExprTypeError as exc:
                self.expr_error(text, cmark, exc.offset, exc.message, exc.hint)
                return
            done[cid] = t
            checker_names[f"criteria.{cid}"] = t
            result[cid] = Criterion(
                id=cid,
                title=_text(model.title),
                expr=Expr(str(text), node, t, _text_mark(text, cmark)),
                sources=_sources(model.source, model.sources),
                file=file,
                unit=model.unit or t.unit,
                description=_text(model.description) if model.description else None,
                unconfirmed=model.unconfirmed,
                note=model.note,
                valid_from=model.valid_from,
                valid_to=model.valid_to,
            )

        for cid in order:
            visit(cid, [])
        return [result[cid] for cid in order if cid in result]

    # -- measures -----------------------------------------------------------
    def load_measures(self, meta: PackMeta, names: dict[str, Type], schema: FactSchema,
                      params: Mapping[str, ParamInfo]) -> list[Measure]:
        measures: list[Measure] = []
        seen: dict[str, list[tuple[date | None, date | None, Mark]]] = {}
        for raw, file, fmark, model in self.documents("measures", f.MeasureModel):
            measure = self.build_measure(model, raw, fmark, file, meta, names, schema, params)
            if measure is None:
                continue
            for start, end, other in seen.get(measure.id, []):
                if _overlap(start, end, measure.valid_from, measure.valid_to):
                    self.error(fmark, f"duplicate measure id {measure.id!r}: its dates overlap "
                                      f"the one at {other.file}:{other.line}")
            seen.setdefault(measure.id, []).append((measure.valid_from, measure.valid_to, fmark))
            measures.append(measure)
        order = list(meta.goals)
        measures.sort(key=lambda m: (order.index(m.goal) if m.goal in order else len(order)))
        return measures

    def build_measure(self, m: f.MeasureModel, raw: MarkedDict, fmark: Mark, file: str,
                      meta: PackMeta, base: dict[str, Type], schema: FactSchema,
                      params: Mapping[str, ParamInfo]) -> Measure | None:
        ok = True
        if m.goal not in meta.goals:
            close = difflib.get_close_matches(m.goal, list(meta.goals), n=1)
            self.error(_key_mark(raw, "goal", fmark), f"unknown goal {m.goal!r} "
                       f"(pack goals: {', '.join(meta.goals)})",
                       f"did you mean {close[0]!r}?" if close else None)
            ok = False
        if m.valid_from and m.valid_to and m.valid_to < m.valid_from:
            self.error(fmark, f"measure {m.id!r}: valid_to is before valid_from")
        names = dict(base)
        member_fields = _member_fields(schema)
        lets: list[tuple[str, Expr]] = []
        steps: list[Step] = []
        raw_let = raw.get("let") or {}
        for lname, entry in m.let.items():
            lmark = _key_mark(raw_let, lname, fmark)
            if not lname.isidentifier() or lname.startswith("_") or lname in names \
                    or lname in ("amount", "members"):
                self.error(lmark, f"{lname!r} cannot be a `let` name (it is taken or invalid)")
                ok = False
                continue
            step = entry if isinstance(entry, f.StepModel) else None
            text = entry if isinstance(entry, str) else entry.value  # a LocStr keeps its place
            expr = self.check_expr(text, lmark, names, member_fields, params)
            if expr is None:
                ok = False
                continue
            unit = expr.type.unit
            if step is not None and step.unit is not None:
                if unit is not None and unit != step.unit:
                    self.error(expr.mark, f"`{lname}` gives [{unit}] but is declared in "
                                          f"[{step.unit}]", "convert with yearly() or monthly()")
                    ok = False
                unit = step.unit
            names[lname] = expr.type
            lets.append((lname, expr))
            steps.append(Step(lname, _text(step.title) if step and step.title else None, unit,
                              _sources(step.source, step.sources) if step else (), lmark,
                              step.note if step else None))
        amount: Amount | None = None
        if m.amount is not None:
            amark = _key_mark(raw, "amount", fmark)
            expr = self.check_expr(m.amount.formula, amark, names, member_fields, params,
                                   expect="num")
            names["amount"] = Type("num", m.amount.unit)
            if expr is None:
                ok = False
            else:
                if expr.type.unit and expr.type.unit != m.amount.unit:
                    self.error(expr.mark, f"the formula gives [{expr.type.unit}] but the amount "
                                          f"is declared in [{m.amount.unit}]",
                               "convert with yearly() or monthly()")
                    ok = False
                amount = Amount(m.amount.unit, m.amount.rounding, expr,
                                _text(m.amount.title) if m.amount.title else None,
                                m.amount.discretionary, m.amount.note,
                                _sources(m.amount.source, m.amount.sources))
                steps.append(Step("amount", amount.title, amount.unit, amount.sources, amark,
                                  amount.note))
        requirements: list[Requirement] = []
        raw_req = raw.get("requires") or {}
        for rid, rm in m.requires.items():
            rmark = _key_mark(raw_req, rid, fmark)
            if not rm.discretionary and rm.when is None:
                self.error(rmark, f"requirement {rid!r} needs `when:` "
                                  "(only a discretionary requirement may leave it out)")
                ok = False
                continue
            expr = None
            if rm.when is not None:
                expr = self.check_expr(rm.when, rmark, names, member_fields, params, expect="bool")
                if expr is None:
                    ok = False
                    continue
            exceptions: list[RuleException] = []
            raw_unless = (raw_req.get(rid) or {}).get("unless") or {}
            for eid, em in rm.unless.items():
                emark = _key_mark(raw_unless, eid, rmark)
                eexpr = self.check_expr(em.when, emark, names, member_fields, params,
                                        expect="bool")
                if eexpr is None:
                    ok = False
                    continue
                exceptions.append(RuleException(
                    eid, _text(em.title), eexpr,
                    _sources(em.source, em.sources) or _sources(rm.source, rm.sources),
                    em.unconfirmed, em.note,
                ))
            requirements.append(Requirement(
                id=rid,
                title=_text(rm.title),
                expr=expr,
                exceptions=tuple(exceptions),
                sources=_sources(rm.source, rm.sources) or tuple(_source(s) for s in m.sources),
                discretionary=rm.discretionary,
                description=_text(rm.description) if rm.description else None,
                unconfirmed=rm.unconfirmed,
                note=rm.note,
                valid_from=rm.valid_from,
                valid_to=rm.valid_to,
            ))
        priority: list[PriorityRule] = []
        raw_prio = raw.get("priority") or []
        for i, pm in enumerate(m.priority):
            pmark = _mark(raw_prio[i] if i < len(raw_prio) else None, fmark.file, fmark)
            expr = self.check_expr(pm.when, pmark, names, member_fields, params, expect="bool")
            if expr is None:
                ok = False
                continue
            priority.append(PriorityRule(expr, pm.rank, _text(pm.title) if pm.title else None))
        if not ok:
            return None
        return Measure(
            id=m.id,
            title=_text(m.title),
            goal=m.goal,
            kind=m.kind,
            sources=tuple(_source(s) for s in m.sources),
            lets=tuple(lets),
            requirements=tuple(requirements),
            amount=amount,
            priority=tuple(priority),
            file=file,
            description=_text(m.description) if m.description else None,
            advice=_text(m.advice) if m.advice else None,
            valid_from=m.valid_from,
            valid_to=m.valid_to,
            unconfirmed=m.unconfirmed,
            note=m.note,
            steps=tuple(steps),
            monthly=m.monthly,
        )

    # -- expressions --------------------------------------------------------
    def parse_expr(self, text: str, mark: Mark) -> ast.Node | None:
        try:
            return parse(str(text))
        except ExprSyntaxError as exc:
            self.expr_error(text, mark, exc.offset, exc.message, exc.hint)
            return None

    def check_expr(self, text: str, mark: Mark, names: Mapping[str, Type],
                   member_fields: Mapping[str, Type], params: Mapping[str, ParamInfo],
                   expect: str | None = None) -> Expr | None:
        node = self.parse_expr(text, mark)
        if node is None:
            return None
        try:
            t = Checker(Names(names, member_fields, params)).check(node)
        except ExprTypeError as exc:
            self.expr_error(text, mark, exc.offset, exc.message, exc.hint)
            return None
        if expect is not None and t.kind != expect:
            want = "true/false" if expect == "bool" else "a number"
            self.expr_error(text, mark, 0, f"this expression must give {want}, "
                                           f"but gives {t.describe()}")
            return None
        return Expr(str(text), node, t, _text_mark(text, mark))

    def expr_error(self, text: str, mark: Mark, offset: int, message: str,
                   hint: str | None = None) -> None:
        where = text.position(offset) if isinstance(text, LocStr) else mark
        snippet = str(text).strip().replace("\n", " ")
        if len(snippet) > 60:
            snippet = snippet[:57] + "..."
        self.error(where, f"{message} in `{snippet}`", hint)

    # -- cases --------------------------------------------------------------
    def load_cases(self, measures: list[Measure], criteria: list[Criterion]) -> list[Case]:
        cases: list[Case] = []
        # a measure or criterion that failed to load would show up again here as
        # "unknown": check the names only when everything else loaded
        check_names = not self.diags
        measure_ids = {m.id for m in measures}
        by_id = {m.id: m for m in measures}
        criterion_ids = {c.id for c in criteria}
        for raw, file, fmark, model in self.documents("cases", f.CaseModel):
            expect_raw = raw.get("expect") or {}
            for kind, known, got in (("measure", measure_ids, model.expect.measures),
                                     ("criterion", criterion_ids, model.expect.criteria)):
                section = expect_raw.get("measures" if kind == "measure" else "criteria") or {}
                for key in got:
                    if check_names and key not in known:
                        close = difflib.get_close_matches(key, sorted(known), n=1)
                        self.error(_key_mark(section, key, fmark), f"unknown {kind} {key!r}",
                                   f"did you mean {close[0]!r}?" if close else None)
            for mid, em in model.expect.measures.items():
                measure = by_id.get(mid)
                if not check_names or em.steps is None or measure is None:
                    continue
                section = ((expect_raw.get("measures") or {}).get(mid) or {}).get("steps") or {}
                known_steps = [s.name for s in measure.steps] + [f"criteria.{c}" for c in
                                                                  sorted(criterion_ids)]
                for key in em.steps:
                    if key not in known_steps:
                        close = difflib.get_close_matches(key, known_steps, n=1)
                        self.error(_key_mark(section, key, fmark),
                                   f"unknown calculation step {key!r} of measure {mid!r}",
                                   f"did you mean {close[0]!r}?" if close else None)
            cases.append(Case(
                name=model.name,
                file=file,
                as_of=model.as_of,
                facts=plain(raw.get("facts")),
                expect_measures=MappingProxyType(
                    {k: v.model_dump(exclude_none=True) for k, v in model.expect.measures.items()}
                ),
                expect_criteria=MappingProxyType(plain(dict(model.expect.criteria))),
                notes=model.notes,
            ))
        return cases


class _Bad:
    pass


_BAD = _Bad()


def field_type(spec: FieldSpec) -> Type:
    """The expression type of a fact."""
    kind = spec.kind
    if kind == "bool":
        return BOOL
    if kind == "int":
        return Type("num", spec.unit, integer=True)
    if kind in ("number", "money"):
        return Type("num", spec.unit)
    if kind == "enum":
        return Type("enum", values=spec.values)
    if kind == "date":
        return DATE
    return STR


def _member_fields(schema: FactSchema) -> dict[str, Type]:
    for group in schema.groups.values():
        if group.is_list:
            return {name: field_type(spec) for name, spec in group.fields.items()}
    return {}


def _param_type(p: Parameter) -> Type:
    leaves: list[Any] = []

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            for v in value.values():
                collect(v)
        elif value is not None:
            leaves.append(value)

    for v in p.versions:
        collect(v.value)
    if leaves and all(isinstance(x, bool) for x in leaves):
        return BOOL
    if leaves and all(isinstance(x, str) for x in leaves):
        return STR
    if leaves and all(isinstance(x, date) for x in leaves):
        return DATE
    integer = all(isinstance(x, int) and not isinstance(x, bool) for x in leaves)
    return Type("num", None if p.unit in (None, "ratio") else p.unit, integer=integer) \
        if p.unit != "ratio" else Type("num", "ratio")


def _criteria_refs(node: ast.Node) -> set[str]:
    return {n.parts[1] for n in ast.walk(node)
            if isinstance(n, ast.Name) and len(n.parts) == 2 and n.parts[0] == "criteria"}


def _table_shape(table: Mapping[Any, Any]) -> Any:
    return tuple(sorted((str(k), _table_shape(v) if isinstance(v, Mapping) else None)
                        for k, v in table.items()))


def _overlap(a0: date | None, a1: date | None, b0: date | None, b1: date | None) -> bool:
    lo = max(a0 or date.min, b0 or date.min)
    hi = min(a1 or date.max, b1 or date.max)
    return lo <= hi


_LANGUAGE_NAMES = {"nb": "bokmål (nb)", "nn": "nynorsk (nn)", "en": "English (en)"}


def _texts(value: Any) -> Iterator[Any]:
    """Every text of a file as read: a mapping whose keys are nb and en (and maybe nn)."""
    if isinstance(value, dict):
        keys = set(value)
        if {"nb", "en"} <= keys <= set(LANGUAGES):
            yield value
            return
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _text(m: f.TextModel) -> Text:
    return Text(str(m.nb), str(m.en), str(m.nn) if m.nn is not None else None)


def _source(m: f.SourceModel) -> Source:
    return Source(str(m.ref), str(m.url) if m.url else None, str(m.note) if m.note else None)


def _sources(one: f.SourceModel | None, many: list[f.SourceModel] | None) -> tuple[Source, ...]:
    out = [_source(one)] if one else []
    out.extend(_source(s) for s in many or [])
    return tuple(out)


def _mark(value: Any, file: str, default: Mark | None = None) -> Mark:
    mark = getattr(value, "mark", None)
    if isinstance(mark, Mark):
        return mark
    return default or Mark(file, 1, 1)


def _key_mark(container: Any, key: Any, default: Mark) -> Mark:
    marks = getattr(container, "key_marks", None)
    if marks and key in marks:
        found: Mark = marks[key]
        return found
    return default


def _text_mark(text: str, default: Mark) -> Mark:
    return text.mark if isinstance(text, LocStr) else default


_KNOWN_KEYS: set[str] = set()
for _model in (f.PackFile, f.FieldModel, f.GroupModel, f.FactsFile, f.ParamModel,
               f.ParamVersionModel, f.CriterionModel, f.ExceptionModel, f.RequirementModel,
               f.AmountModel, f.PriorityModel, f.MeasureModel, f.CaseModel, f.ExpectModel,
               f.ExpectMeasure, f.TextModel, f.SourceModel, f.StepModel):
    _KNOWN_KEYS.update(_model.model_fields)


def _pydantic_diag(err: Mapping[str, Any], data: Any, mark: Mark,
                   model: type[BaseModel]) -> Diagnostic:
    loc = tuple(err.get("loc", ()))
    if len(loc) > 2 and loc[0] == "let" and loc[2] in f.LET_FORMS:
        loc = loc[:2] + loc[3:]  # which form of `let:` entry was tried is no news to a user
    where = mark
    node = data
    for part in loc:
        if isinstance(node, dict):
            where = _key_mark(node, part, where)
            if part in node:
                node = node[part]
                where = _mark(node, where.file, where)
            else:
                break
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            where = _mark(node, where.file, where)
        else:
            break
    path = ".".join(str(p) for p in loc) or model.__name__
    kind = err.get("type", "")
    hint = None
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1)
        message = f"unknown key {key!r}"
        hint = f"did you mean {close[0]!r}?" if close else None
    elif kind == "missing":
        message = f"missing required key {path!r}"
    else:
        message = f"{path}: {err.get('msg', 'invalid value')}"
    return Diagnostic(where.file, where.line, where.column, message, hint)


def _content_hash(root: Path, paths: list[Path], texts: Mapping[Path, str]) -> str:
    """SHA-256 over the rule files as they were read (never read a second time)."""
    digest = hashlib.sha256()
    for path in paths:
        if path in texts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(texts[path].encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()


__all__ = ["field_type", "load_cases", "load_invariants_document", "load_pack",
           "resolve_pack_dir"]
