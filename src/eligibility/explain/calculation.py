"""Read-only views of an amount's calculation: Decision data, terminal table, Markdown, changes.

The calculation is recorded once, during evaluation
(:func:`eligibility.compile.calculation.record`). Each function here turns that
record — or the ``calculation`` of a Decision's measure, which is the record as data
— into one presentation and returns it; nothing here prints or evaluates.

- :func:`decision_steps` / :class:`StepViews`: the record as the plain data of
  ``MeasureResult.calculation`` (a builder keeps one StepViews to share what repeats).
- :func:`calculation_table`: a small aligned rich table for ``evaluate --details``
  (:func:`calculation_renderables`: one per measure of a Decision).
- :func:`calculation_markdown`: the same steps as a Markdown table (the README examples).
- :func:`changed_steps`: the steps whose value differs between two decisions (what-if).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any

from rich.table import Table
from rich.text import Text

from eligibility.compile.calculation import ELIDED, ParamUse, RecordedStep, StepId
from eligibility.compile.runtime import UNKNOWN
from eligibility.decision import (
    _FIELDS_SET,
    _NEW,
    _SET_DICT,
    _SET_EXTRA,
    _SET_FIELDS,
    _SET_PRIVATE,
    CalculationStep,
    Decision,
    MeasureResult,
    ParameterUsed,
    SourceRef,
    construct,
    field_template,
)
from eligibility.explain.messages import render
from eligibility.pack.model import Source
from eligibility.pack.yamlio import LocStr

_PLACES = Decimal("0.0001")


def format_number(value: Any, lang: str, unit: str | None = None) -> str:
    """A value for reading: thousands grouped, at most four decimals, nb decimal comma."""
    cls = value.__class__
    if cls is int:  # the common cases first, by exact class (a bool is an int)
        text = f"{value:,}".replace(",", " ")
    elif isinstance(value, Decimal):
        text = _decimal_text(value, lang)
    elif value is None or value is UNKNOWN:
        return "?"
    elif isinstance(value, bool):
        return render(f"value.{str(value).lower()}", lang)
    elif isinstance(value, int):
        text = f"{int(value):,}".replace(",", " ")
    elif isinstance(value, str):
        text = f'"{value}"'
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    if unit and unit != "ratio":
        text += f" {unit}"
    return text


def _decimal_text(value: Decimal, lang: str) -> str:
    """A decimal as :func:`format_number` shows it: rounded half up to four decimals
    where it has more, trailing zeros dropped. Formatted as it is first (most decimals
    have at most four: a second format, of the value rounded, only for the rest); the
    same text as rounding every value first in decimal's default context, where a
    rounding beyond the context's precision raises (as it does here where one is
    needed)."""
    text = f"{value:,f}"
    dot = text.find(".")
    if dot < 0:  # a whole number (or not a finite one): no decimals to drop
        return text.replace(",", " ")
    if len(text) - dot > 5:  # more than four decimals: round to four (may raise)
        text = f"{value.quantize(_PLACES, rounding=ROUND_HALF_UP):,f}"
    text = text.rstrip("0").rstrip(".").replace(",", " ")
    return text if lang == "en" else text.replace(".", ",")


def with_values(step: RecordedStep, lang: str,
                yes_no: tuple[str, str] | None = None,
                texts: Mapping[int, tuple[Any, str]] | None = None,
                seen: dict[int, tuple[Any, str]] | None = None) -> str:
    """The step's expression with each name and look-up replaced by the value it had.

    ``yes_no``: the texts of no and yes in ``lang`` when the caller has them (a
    :class:`StepViews` keeps them); the commonest values — a whole number, a yes/no, an
    elided branch, a decimal — are formatted here as :func:`format_number` would.
    ``texts``: id → (value, its text in ``lang``) of values formatted before (the pack's
    own decimals; a :class:`StepViews` keeps them), used where the value is that very
    object. ``seen``: the same for the household's own decimals, filled here (a caller
    passes one dict for the steps of one household, whose objects outlive it)."""
    return _with_values(step.text, step.terms, lang, yes_no, texts, seen, None, None)


def _with_values(text: str, terms: tuple[tuple[int, int, Any], ...], lang: str,
                 yes_no: tuple[str, str] | None,
                 texts: Mapping[int, tuple[Any, str]] | None,
                 seen: dict[int, tuple[Any, str]] | None,
                 ints: Mapping[int, str] | None,
                 keep_int: Callable[[int], str] | None) -> str:
    """:func:`with_values` of ``text`` and its ``terms``; ``ints``: the texts of whole
    numbers formatted before (a :class:`StepViews` keeps them; alike in every
    language), ``keep_int`` formats and keeps one that is not there."""
    out = ""
    at = 0
    for start, end, value in terms:  # recorded in source order, never overlapping
        out += text[at:start]
        at = end
        cls = value.__class__
        if cls is int:
            if ints is not None:
                shown = ints.get(value)
                out += keep_int(value) if shown is None else shown  # type: ignore[misc]
            elif -1000 < value < 1000:
                out += str(value)
            else:
                out += f"{value:,}".replace(",", " ")
        elif cls is Decimal:
            key = id(value)
            hit = texts.get(key) if texts is not None else None
            if hit is None and seen is not None:
                hit = seen.get(key)
            if hit is not None and hit[0] is value:
                out += hit[1]
            else:
                shown = _decimal_text(value, lang)
                if seen is not None:  # (the entry keeps the value alive: ids stay its own)
                    seen[key] = (value, shown)
                out += shown
        elif cls is bool and yes_no is not None:
            out += yes_no[value]
        elif value is ELIDED:
            out += "…"
        elif value is UNKNOWN or value is None:
            out += "?"
        elif cls is str or cls is LocStr:
            out += f'"{value}"'
        else:
            out += format_number(value, lang)
    return out + text[at:]


def _json(value: Any) -> Any:
    if value is UNKNOWN:
        return None
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    return value


_STEP_FIELDS = _FIELDS_SET[CalculationStep]


class StepViews:
    """Builds ``MeasureResult.calculation`` from recorded steps, sharing what repeats.

    Per step and language the static part (name, kind, title, expression, unit, sources,
    rounding) is made once; each :class:`ParameterUsed` once per recorded
    :class:`~eligibility.compile.calculation.ParamUse` (which the plan shares per date
    and keys) and language, and their list once per tuple of them; each
    :class:`SourceRef` once; the pack's decimals are formatted once per language, whole
    numbers once. A step whose shown values are all of exact kinds or decimals (a
    decimal keyed by its ``str``, which names its digits and exponent, once the step was
    made ``_KEYED_AFTER`` times) is made once per values, unless its memo was missed
    ``_MISSES`` times with few hits (values seldom seen again: an income, a sum of
    them); one the recorder shares (the same object seen again) is then found by
    identity. A Decision builder keeps one; the objects it hands out are shared between
    Decisions (frozen; do not mutate their lists). Memo writes are guarded by a lock, so
    one instance serves many threads."""

    _LIMIT = 4096
    _STEPS = 256  # the most steps kept per step and language
    #: a step whose memo was missed this often, with less than one hit per ``_HITS``
    #: misses (so many values, seldom or never again: an income, a sum of them), is
    #: made without one from then on
    _MISSES = 64
    _HITS = 3
    #: a step showing decimals is made this often before it is keyed by them (the
    #: digits of each: the first evaluations of a new engine pay no keys)
    _KEYED_AFTER = 8

    def __init__(self, pack_decimals: Mapping[int, tuple[Any, str]] | None = None) -> None:
        #: the pack's own parameter decimals (id → (the decimal, its str); see
        #: :func:`pack_decimals`): formatted once per language
        self._decimals: Mapping[int, tuple[Any, str]] = pack_decimals or {}
        #: per step and language: its static fields, and a memo of the steps made from
        #: them keyed by what varies (values, waiting-for, parameters)
        self._static: dict[tuple[Any, ...],
                           _Static] = {}
        self._refs: dict[Source, SourceRef] = {}
        #: the texts of whole numbers (alike in every language)
        self._ints: dict[int, str] = {}
        #: per language: the texts of no and yes (as :func:`format_number` gives them),
        #: the texts of the pack's decimals (id → (decimal, text)), the ParameterUsed
        #: made per ParamUse (id → (the ParamUse, its view)), the lists of them per
        #: step's ParamUse tuple (their ids, and the tuple's own id → (the ParamUses,
        #: the list)), the views of recorded
        #: steps a recorder shares (id → (the RecordedStep, its view): a step found in
        #: ``_static``'s memo by values as built from this very object), and the
        #: ``_static`` entry of each planned step (by its StepId, hashed by identity;
        #: never None)
        self._langs: dict[str, _Lang] = {}
        self._empty: list[Any] = []
        self._lock = threading.Lock()

    def _store(self, memo: dict[Any, Any], key: Any, value: Any, limit: int = 0) -> Any:
        with self._lock:
            if len(memo) >= (limit or self._LIMIT):
                memo.clear()
            memo[key] = value
        return value

    def _int_text(self, value: int) -> str:
        """A whole number's text, kept in ``_ints``."""
        text: str = self._store(self._ints, value, f"{value:,}".replace(",", " "))
        return text

    def _source(self, src: Source) -> SourceRef:
        ref = self._refs.get(src)
        if ref is None:
            ref = self._store(self._refs, src,
                              construct(SourceRef, {"ref": src.ref, "url": src.url}))
        return ref

    def _template(self, s: RecordedStep, lang: str,
                  ) -> _Static:
        # keyed by the identity of the plan's own objects (kept alive in the entry)
        key = (id(s.sources), id(s.title), s.name, s.text, s.unit, s.rounding, lang)
        found = self._static.get(key)
        if found is not None and found[0] is s.sources and found[1] is s.title:
            return found
        template = field_template(CalculationStep, {
            "name": s.name,
            "kind": s.kind,
            "title": s.title.get(lang) if s.title else None,
            "expression": s.text,
            "with_values": "",
            "value": None,
            "known": True,
            "unit": s.unit,
            "waiting_for": self._empty,
            "parameters": self._empty,
            "sources": [self._source(src) for src in s.sources] if s.sources else self._empty,
            "rounding": s.rounding,
            "exact": None,
        })
        entry: _Static = (s.sources, s.title, template, {}, [0, 0, False, False, 0, 0])
        self._store(self._static, key, entry)
        return entry

    def _lang(self, lang: str) -> _Lang:
        """The per-language state (see ``_langs``), made once per language."""
        found = self._langs.get(lang)
        if found is None:
            texts = {key: (value, format_number(value, lang))
                     for key, (value, _) in self._decimals.items()}
            views: dict[int, tuple[Any, ParameterUsed]] = {}
            lists: dict[Any, tuple[Any, list[ParameterUsed]]] = {}
            shared: dict[int, tuple[RecordedStep, CalculationStep]] = {}
            planned: dict[StepId | None, _Static] = {}
            made = ((format_number(False, lang), format_number(True, lang)), texts, views,
                    lists, shared, planned)
            with self._lock:
                found = self._langs.setdefault(lang, made)
        return found

    def _parameter(self, p: ParamUse, lang: str) -> ParameterUsed:
        memo = self._lang(lang)[2]
        found = memo.get(id(p))
        if found is not None and found[0] is p:
            used: ParameterUsed = found[1]
            return used
        used = construct(ParameterUsed, field_template(ParameterUsed, {
            "name": p.name,
            "title": p.title.get(lang) if p.title else None,
            "keys": [_json(k) for k in p.keys],
            "value": _json(p.value),
            "unit": p.unit,
            "valid_from": p.valid_from,
            "source": self._source(p.source) if p.source else None,
            "unconfirmed": p.unconfirmed,
        }))
        self._store(memo, id(p), (p, used))
        return used

    def steps(self, steps: tuple[RecordedStep, ...], lang: str) -> list[CalculationStep]:
        """The recorded steps as ``MeasureResult.calculation`` (not re-validated)."""
        out: list[CalculationStep] = []
        append = out.append
        yes_no, texts, _, params, shared, planned = self._langs.get(lang) or self._lang(lang)
        shareable = _SHAREABLE.issuperset
        ints, keep_int = self._ints, self._int_text
        _STEPS, _MISSES, _HITS, _KEYED_AFTER = (self._STEPS, self._MISSES, self._HITS,
                                                self._KEYED_AFTER)
        for s in steps:
            seen = shared.get(id(s))
            if seen is not None and seen[0] is s:  # a step the recorder shares
                append(seen[1])
                continue
            (_, _, _, _, _, text, value, waiting, used, terms, _, exact, ident) = s
            found = planned.get(ident)  # the planned step's static part (None: none)
            if found is None:
                found = self._static_of(s, lang, planned)
            _, _, template, made, counts = found
            # a step of exact values (a count, a choice, a parameter's value, a rate) is
            # made once per values and shared; the parameters it looked up are kept
            # alive by the entry
            key: Any = None
            if not counts[2]:
                vals: tuple[Any, ...] | None = (value, exact, *map(_third, terms))
                if not shareable(map(type, vals)):  # type: ignore[arg-type]
                    if counts[5] < _KEYED_AFTER:  # (a new engine's: seldom seen again)
                        counts[5] += 1  # (a count for the heuristic: unguarded)
                        vals = None
                    else:
                        vals = _value_keys(vals)  # type: ignore[arg-type]
                if vals is not None:  # never tuples themselves (a decimal: its key)
                    key = (vals, waiting, *map(id, used)) if waiting or used else vals
                    hit = made.get(key)
                    if hit is not None:
                        counts[1] += 1  # (a count for the heuristic: unguarded)
                        # kept by identity too: a step the recorder shares is found so
                        # when it comes again; once one came again, so is every fourth
                        # other object of this step found by values (the recorder may
                        # share several of equal values)
                        if hit[0] is s:
                            counts[3] = True
                            self._store(shared, id(s), hit)
                        elif counts[3]:  # (every fourth: most are seen once)
                            counts[4] += 1
                            if not counts[4] & 3:
                                self._store(shared, id(s), (s, hit[1]))
                        append(hit[1])
                        continue
            fields = template.copy()
            # (a household's decimal is seldom shown twice: formatted each time)
            fields["with_values"] = _with_values(text, terms, lang, yes_no, texts, None,
                                                 ints, keep_int) if terms else text
            if value is UNKNOWN:
                fields["known"] = False
            elif value.__class__ in _SCALARS:
                fields["value"] = value
            else:
                fields["value"] = _json(value)
            if waiting:
                fields["waiting_for"] = list(waiting)
            if used:
                # the list per ParamUse identities (kept alive by the entry), found by
                # the tuple's own identity first (the plan shares one per date and keys)
                plist = params.get(id(used))
                if plist is None or plist[0] is not used:
                    plist = self._parameters(used, lang, params)
                fields["parameters"] = plist[1]
            if exact is not None and exact is not UNKNOWN:
                fields["exact"] = exact if exact.__class__ is Decimal else Decimal(exact)
            step = _NEW(CalculationStep)  # as _construct makes it, inline
            _SET_DICT(step, fields)
            _SET_FIELDS(step, _STEP_FIELDS)
            _SET_EXTRA(step, None)
            _SET_PRIVATE(step, None)
            if key is not None:  # (the step keeps the parameters in the key alive)
                with self._lock:
                    if len(made) >= _STEPS:
                        made.clear()
                    misses = counts[0] = counts[0] + 1
                    if misses >= _MISSES and counts[1] * _HITS < misses:
                        counts[2] = True  # (seldom found: made without the memo now)
                    made[key] = (s, step)
            append(step)
        return out

    def _parameters(self, used: tuple[ParamUse, ...], lang: str,
                    params: dict[Any, tuple[Any, list[ParameterUsed]]],
                    ) -> tuple[Any, list[ParameterUsed]]:
        """The ``_langs`` entry of the list of ``used`` (made once per ParamUse
        identities), kept under the tuple's identity too."""
        pkey = tuple(map(id, used))
        pfound = params.get(pkey)
        if pfound is None:
            pfound = self._store(params, pkey, (used, [self._parameter(p, lang) for p in used]))
        entry: tuple[Any, list[ParameterUsed]] = self._store(params, id(used), (used, pfound[1]))
        return entry

    def _static_of(self, s: RecordedStep, lang: str, planned: dict[StepId | None, _Static],
                   ) -> _Static:
        """The ``_static`` entry of ``s`` (kept under its planned step too: a StepId is
        hashed by identity)."""
        sources, title = s.sources, s.title
        found = self._static.get((id(sources), id(title), s.name, s.text, s.unit, s.rounding,
                                  lang))
        if found is None or found[0] is not sources or found[1] is not title:
            found = self._template(s, lang)
        if s.planned is not None:
            self._store(planned, s.planned, found)
        return found


_SCALARS = frozenset({bool, int, str, Decimal, date})


def _value_keys(vals: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """``vals`` with each decimal as its key, ``(_DECIMAL, its str)`` (the str names
    its sign, digits and exponent: 1.0 and 1.00 have keys of their own, and two
    decimals of one key read and serialise alike); None when another value is not
    shareable (a mapping)."""
    out: list[Any] = []
    for v in vals:
        cls = v.__class__
        if cls is Decimal:
            out.append((_DECIMAL, str(v)))
        elif cls in _SHAREABLE:
            out.append(v)
        else:
            return None
    return tuple(out)


#: the tag of a decimal's memo key (no recorded value is a tuple, nor a waiting-for
#: fact this object)
_DECIMAL = object()


#: a step's static part per language (see ``StepViews._static``): its sources and title
#: (kept: the key holds their ids), its CalculationStep's field template, the steps made
#: from it by values, and that memo's misses, hits, whether it is no longer used,
#: whether a step the recorder shares came again, the other objects found since, and
#: how often it was made with decimals before they were keys
_Static = tuple[Any, Any, dict[str, Any], dict[Any, Any], list[Any]]
#: per language (see ``StepViews._langs``)
_Lang = tuple[tuple[str, str], dict[int, tuple[Any, str]], dict[int, tuple[Any, ParameterUsed]],
              dict[Any, tuple[Any, list[ParameterUsed]]],
              dict[int, tuple[RecordedStep, CalculationStep]], dict[StepId | None, _Static]]
_third = itemgetter(2)  # a recorded term's value
#: the value types of a step that can be shared between Decisions as it is: equal values
#: of one step's value or term (each of one type) format and serialise alike
_SHAREABLE = frozenset({bool, int, str, LocStr, date, type(None), type(UNKNOWN),
                        type(ELIDED)})


def pack_decimals(parameters: Mapping[str, Any]) -> dict[int, tuple[Any, str]]:
    """id → (the decimal, its text) for every decimal in the parameters' versions
    (``pack.parameters``): a memo key naming the exact value (1.0 ≠ 1.00) that
    holds the decimal itself, so the id stays its own while the key is kept."""
    found: dict[int, tuple[Any, str]] = {}

    def walk(value: Any) -> None:
        if value.__class__ is Decimal:
            found[id(value)] = (value, str(value))
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for param in parameters.values():
        for version in param.versions:
            walk(version.value)
    return found


def decision_steps(steps: tuple[RecordedStep, ...], lang: str) -> list[CalculationStep]:
    """The recorded steps as ``MeasureResult.calculation`` (built once, not re-validated)."""
    return StepViews().steps(steps, lang)


def _label(step: CalculationStep) -> str:
    return step.title or step.name


def _value_text(step: CalculationStep, lang: str) -> str:
    if not step.known:
        return "?"
    return format_number(step.value, lang, step.unit)


def _param_line(p: Any, lang: str) -> str:
    keys = "".join(f"[{format_number(k, lang)}]" for k in p.keys)
    line = f"{p.name}{keys} = {format_number(p.value, lang, p.unit)}"
    extra = []
    if p.valid_from is not None:
        extra.append(render("calc.from", lang, date=p.valid_from.isoformat()))
    if p.source is not None:
        extra.append(p.source.ref)
    if p.unconfirmed:
        extra.append(render("label.unconfirmed", lang))
    return line + (f" ({'; '.join(extra)})" if extra else "")


def calculation_table(m: MeasureResult, lang: str) -> Table | None:
    """The measure's calculation as a small aligned table (``None`` without one)."""
    if not m.calculation:
        return None
    table = Table(title=render("calc.title", lang, measure=m.title), title_justify="left",
                  expand=True, show_lines=False, pad_edge=False)
    table.add_column(render("calc.step", lang), ratio=3)
    table.add_column(render("calc.expression", lang), ratio=6)
    table.add_column(render("calc.value", lang), justify="right", ratio=2, no_wrap=True)
    for step in m.calculation:
        label = Text(_label(step), style="bold" if step.kind == "amount" else "")
        refs = "; ".join(s.ref for s in step.sources)
        if refs:
            label.append(f"\n{refs}", style="dim")
        calc = Text(step.with_values)
        for p in step.parameters:
            calc.append("\n" + _param_line(p, lang), style="dim")
        if not step.known and step.waiting_for:
            calc.append("\n" + render("calc.waiting", lang, missing=", ".join(step.waiting_for)),
                        style="yellow")
        value = Text(_value_text(step, lang), style="bold" if step.kind == "amount" else "")
        if step.kind == "amount" and step.exact is not None and step.known \
                and step.exact != step.value:
            value.append("\n" + render("calc.rounded", lang,
                                       exact=format_number(step.exact, lang)), style="dim")
        table.add_row(label, calc, value)
    return table


def calculation_renderables(decision: Decision) -> list[Table]:
    """The calculation table of every measure of ``decision`` that has one, in its order."""
    tables = [calculation_table(m, decision.lang) for m in decision.measures]
    return [t for t in tables if t is not None]


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def calculation_markdown(m: MeasureResult, lang: str,
                         steps: Sequence[str] | None = None) -> str:
    """The measure's calculation as a Markdown table: step, calculation with values, value.

    ``steps`` picks the steps to show, by name, in the calculation's order (default: all).
    """
    if not m.calculation:
        return ""
    head = (f"| {render('calc.step', lang)} | {render('calc.expression', lang)} | "
            f"{render('calc.value', lang)} |")
    lines = [head, "|---|---|---:|"]
    if steps is not None:
        unknown = set(steps) - {s.name for s in m.calculation}
        if unknown:
            raise KeyError(f"{m.id} has no calculation step {', '.join(sorted(unknown))}")
    for step in m.calculation:
        if steps is not None and step.name not in steps:
            continue
        refs = "; ".join(s.ref for s in step.sources)
        label = _label(step) + (f" ({refs})" if refs else "")
        value = _value_text(step, lang)
        if step.kind == "amount":
            value = f"**{value}**"
            if step.exact is not None and step.known and step.exact != step.value:
                value = f"{format_number(step.exact, lang)} → {value}"
        lines.append(f"| {_md(label)} | `{_md(step.with_values)}` | {value} |")
    return "\n".join(lines)


def changed_steps(before: MeasureResult | None, after: MeasureResult | None
                  ) -> list[tuple[CalculationStep | None, CalculationStep | None]]:
    """The steps whose value (or knownness) differs between two results of one measure."""
    old = {s.name: s for s in (before.calculation or [])} if before else {}
    new = {s.name: s for s in (after.calculation or [])} if after else {}
    names = list(dict.fromkeys([*old, *new]))
    out = []
    for name in names:
        a, b = old.get(name), new.get(name)
        if a is None or b is None or a.value != b.value or a.known != b.known:
            out.append((a, b))
    return out


def changes_table(before: MeasureResult | None, after: MeasureResult | None,
                  lang: str) -> Table | None:
    """The steps that changed between two results of one measure, before and after."""
    changed = changed_steps(before, after)
    if not changed:
        return None
    title = (after or before).title  # type: ignore[union-attr]
    table = Table(title=render("calc.changed", lang, measure=title), title_justify="left",
                  pad_edge=False)
    table.add_column(render("calc.step", lang))
    table.add_column(render("calc.before", lang), justify="right")
    table.add_column(render("calc.after", lang), justify="right")
    for a, b in changed:
        step = b or a
        assert step is not None
        table.add_row(_label(step), _value_text(a, lang) if a else "",
                      _value_text(b, lang) if b else "")
    return table
