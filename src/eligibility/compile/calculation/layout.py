"""The calculation's steps laid out for a backend's environment (the fast path).

:func:`env_steps` gives, per planned step, the closures of a backend over its own
environment and a layout: a step without `if` conditions as one :class:`_Direct`
(every term in order; its plain look-ups bound once per date by :func:`_bind`, with
the step's recorder on the date that the recorders make), one with
conditions as a :class:`_Guarded` holding a :class:`_Direct` per way its conditions
come out (:func:`_conditions`, :func:`_outcomes`, :func:`_laid_out`; made at start where
there are few, else as they come). The recorders (:mod:`.recording`) record a step from
these layouts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from eligibility.compile.calculation.planning import (
    _BRANCH,
    _CRIT,
    _EVAL,
    _FACT,
    _LET,
    _PARAM,
    ELIDED,
    CalculationPlan,
    _conditions,
    _PlannedStep,
)
from eligibility.compile.runtime import UNKNOWN
from eligibility.expr import ast


@dataclass(frozen=True, slots=True, eq=False)
class _Direct:
    """A step without `if` conditions over an environment, laid out for
    :func:`_direct_step`: every term is recorded, in order, so its terms are the date's
    plain look-ups (bound once per date in ``dated``, with the step's recorder on the
    date) with the household's values put in: those read from the environment by key,
    the aggregates the evaluation kept or computes, and the keyed look-ups."""

    head: tuple[Any, ...]  # (name, kind, title, unit, sources, text, planned) of the step
    vkey: str | None  # where the environment keeps the step's value; None: the amount
    n: int  # the number of terms
    #: the terms read from the environment: (position, start, end), and an itemgetter
    #: of their keys (which gives one value when there is one key)
    env_terms: tuple[tuple[int, int, int], ...]
    getter: Callable[[Any], Any] | None
    evals: tuple[tuple[int, int, int, str, Any], ...]  # (position, start, end, key, closure)
    #: (position, start, end, name, key closures, use index) of the keyed look-ups
    keyed: tuple[tuple[int, int, int, str, tuple[Any, ...], int], ...]
    plain: tuple[tuple[int, int, int, str], ...]  # (position, start, end, name)
    uses: tuple[str | None, ...]  # per parameter term in order: its name, None if keyed
    #: (position, start, end) of the `if` branches not taken (a layout of :class:`_Guarded`)
    elided: tuple[tuple[int, int, int], ...] = ()
    #: per date: what the date fixes (see :func:`_bind`)
    dated: dict[date, tuple[Any, ...]] = field(default_factory=dict)
    env_keys: tuple[str, ...] = ()  # the environment keys of ``env_terms``, in order


@dataclass(frozen=True, slots=True, eq=False)
class _Guarded:
    """A step with `if` conditions over an environment, for :func:`_guarded_step`: its
    conditions in the order the term-by-term recorder asks them, each with the outcomes
    of earlier ones it is asked under, and per tuple of outcomes the step laid out as
    :class:`_Direct` (its terms then fixed; made on first use, under the plan's lock)."""

    planned: _PlannedStep
    vkey: str | None
    flat: tuple[tuple[Any, ...], ...]  # as EnvStep's, with the conditions' closures
    #: (condition closure, ((index of an earlier condition, the outcome it needs), …))
    conds: tuple[tuple[Any, tuple[tuple[int, Any], ...]], ...]
    index: Mapping[Any, int]  # a condition closure → its index in ``conds``
    #: per outcomes: the layout (made at start for each way two-valued conditions can
    #: go), or how many times other outcomes came before one is made for them
    layouts: dict[tuple[Any, ...], _Direct | int] = field(default_factory=dict)
    #: per condition in ``conds``: where the evaluation keeps its value when it computed
    #: it (a call it shows, such as ``any`` or ``known``), or ""
    cond_keys: tuple[str, ...] = ()


#: one step for :func:`record_env`: (the planned step, the environment key of its value
#: — a ``let`` or criterion — or None for the amount, its terms as
#: (start, end, how, environment key, closure, guards, key closures), and the step laid
#: out for :func:`_direct_step` when it has no `if` conditions, else for
#: :func:`_guarded_step`)
EnvStep = tuple[_PlannedStep, str | None, tuple[tuple[Any, ...], ...], "_Direct | _Guarded"]


def env_steps(plan: CalculationPlan, compile_node: Callable[[ast.Node], Any],
              let_key: Callable[[str], str], crit_key: Callable[[str], str],
              term_key: Callable[[ast.Node], str] = lambda node: "",
              ) -> tuple[EnvStep, ...]:
    """``plan``'s steps for :func:`record_env`, with closures from ``compile_node`` (a
    backend's own, over its environment) for each `if` condition, table key and term
    the evaluation does not keep; ``let_key`` / ``crit_key`` name where the environment
    keeps a ``let`` / criterion value, ``term_key`` where it may keep a term's value
    (an aggregate the evaluation computed; "" where none)."""
    conds: dict[int, Any] = {}  # one closure per condition, so the record asks it once
    cond_keys: dict[int, str] = {}  # a condition's closure → term_key of its node

    def cond_fn(node: ast.Node) -> Any:
        found = conds.get(id(node))
        if found is None:
            found = conds[id(node)] = compile_node(node)
            cond_keys[id(found)] = term_key(node)
        return found

    out: list[EnvStep] = []
    for planned in plan.steps:
        cached = planned.cached
        vkey = None if cached is None else (
            let_key(cached[1]) if cached[0] == "lets" else crit_key(cached[1]))
        flat: list[tuple[Any, ...]] = []
        for term, (start, end, how, key, _, guards, key_fns) in zip(
                planned.terms, planned.flat, strict=True):
            eguards = tuple((cond_fn(node), want) for (_, want), node in zip(
                guards, term.guard_nodes, strict=True))
            efn: Any = None
            ekeys: tuple[Any, ...] = ()
            if how == _LET:
                key = let_key(key)
            elif how == _CRIT:  # read as a let is: one environment key
                how, key = _LET, crit_key(key)
            elif how == _PARAM and key_fns:
                assert isinstance(term.node, ast.Call)
                ekeys = tuple(compile_node(a) for a in term.node.args[1:])
            elif how == _EVAL:
                assert term.node is not None
                efn = compile_node(term.node)
                key = term_key(term.node)
            flat.append((start, end, how, key, efn, eguards, ekeys))
        out.append((planned, vkey, tuple(flat),
                    _direct(planned, vkey, flat) or _guarded(planned, vkey, flat, cond_keys)))
    return tuple(out)


def _guarded(planned: _PlannedStep, vkey: str | None, flat: list[tuple[Any, ...]],
             cond_keys: Mapping[int, str]) -> _Guarded:
    """``planned`` (with `if` conditions) laid out for :func:`_guarded_step`
    (``cond_keys``: a condition's closure → where the evaluation may keep its value)."""
    conds, index = _conditions(flat)
    g = _Guarded(planned, vkey, tuple(flat), conds, index,
                 cond_keys=tuple(cond_keys.get(id(c), "") for c, _ in conds))
    for outcomes in _outcomes(g.conds):  # laid out at start for every way they can go
        g.layouts[outcomes] = _guarded_layout(g, outcomes)
    return g


def _outcomes(conds: tuple[tuple[Any, tuple[tuple[int, Any], ...]], ...],
              ) -> list[tuple[Any, ...]]:
    """Every tuple of outcomes (True, False; None: not asked) two-valued conditions
    ``conds`` can give, as :func:`_guarded_step` collects them; none when more than
    :data:`_LAYOUTS_AT_START` (laid out as they come then)."""
    found: list[tuple[Any, ...]] = [()]
    for _, outer in conds:
        grown: list[tuple[Any, ...]] = []
        for done in found:
            if all(done[at] is want for at, want in outer):
                grown += [(*done, True), (*done, False)]
            else:
                grown.append((*done, None))
        if len(grown) > _LAYOUTS_AT_START:
            return []
        found = grown
    return found


def _guarded_layout(g: _Guarded, outcomes: tuple[Any, ...]) -> _Direct | int:
    """``g``'s step as :class:`_Direct` where its conditions came out as ``outcomes``:
    the terms the term-by-term recorder (:func:`_env_step`) records then."""
    return _direct(g.planned, g.vkey, _laid_out(g.flat, g.index, outcomes)) or 0
    # (never 0: no guards are left)


def _laid_out(flat: tuple[tuple[Any, ...], ...], index: Mapping[Any, int],
              outcomes: tuple[Any, ...], unknown_taken: bool = False,
              ) -> list[tuple[Any, ...]]:
    """The terms of ``flat`` a term-by-term recorder records where the conditions
    (``index``: see :func:`_conditions`) came out as ``outcomes``, without guards; a
    branch not taken as one ``_BRANCH`` term (shown as "…"). ``unknown_taken``: a
    condition that came out UNKNOWN takes both branches (as :func:`record` does)."""
    kept: list[tuple[Any, ...]] = []
    elided_to = -1
    for start, end, how, key, efn, guards, key_fns in flat:
        if end <= elided_to:
            continue
        if guards:
            taken = True
            for cond, want in guards:
                got = outcomes[index[cond]]
                if got is not want and not (unknown_taken and got is UNKNOWN):
                    taken = False
                    break
            if not taken:
                if how == _BRANCH:  # a branch not taken: shown as "…"
                    elided_to = end
                    kept.append((start, end, _BRANCH, "", None, (), ()))
                continue
        if how != _BRANCH:  # (a branch taken: its terms follow)
            kept.append((start, end, how, key, efn, (), key_fns))
    return kept



#: the step out for them, where it was not laid out at start (outcomes other than
#: True/False, or more ways than :data:`_LAYOUTS_AT_START`)
_LAYOUT_AFTER = 8
#: the most layouts of one step made at start (one per way its conditions can go)
_LAYOUTS_AT_START = 32


def _direct(planned: _PlannedStep, vkey: str | None,
            flat: list[tuple[Any, ...]]) -> _Direct | None:
    """``planned`` laid out for :func:`_direct_step`, or None when a term is guarded."""
    if any(guards for *_, guards, _ in flat):
        return None
    env_terms: list[tuple[int, int, int]] = []
    env_keys: list[str] = []
    evals: list[tuple[int, int, int, str, Any]] = []
    keyed: list[tuple[int, int, int, str, tuple[Any, ...], int]] = []
    plain: list[tuple[int, int, int, str]] = []
    uses: list[str | None] = []
    elided: list[tuple[int, int, int]] = []
    for pos, (start, end, how, key, efn, _, key_fns) in enumerate(flat):
        if how == _BRANCH:  # (a layout of _Guarded: a branch not taken)
            elided.append((pos, start, end))
        elif how in (_FACT, _LET):
            env_terms.append((pos, start, end))
            env_keys.append(key)
        elif how == _PARAM:
            if key_fns:
                keyed.append((pos, start, end, key, key_fns, len(uses)))
                uses.append(None)
            else:
                plain.append((pos, start, end, key))
                uses.append(key)
        else:  # _EVAL (a branch has guards)
            evals.append((pos, start, end, key, efn))
    return _Direct(
        (planned.name, planned.kind, planned.title, planned.unit, planned.sources,
         planned.text, planned.ident), vkey, len(flat), tuple(env_terms),
        itemgetter(*env_keys) if env_keys else None, tuple(evals), tuple(keyed),
        tuple(plain), tuple(uses), tuple(elided), env_keys=tuple(env_keys))


def _bind(plan: CalculationPlan, d: _Direct, as_of: date, params: Mapping[str, Any],
          recorder: Callable[..., Any] | None = None) -> tuple[Any, ...]:
    """``d.dated`` on ``as_of`` with ``params``: (the parameters, the step's terms with
    the plain look-ups in place, its uses with None where a keyed one goes, the memo of
    keyed look-ups on the date, and ``recorder(plan, d, as_of, bound)`` — the step's
    recorder on the date — or None without ``recorder``)."""
    keyless = plan.keyless_uses(as_of, params)
    base: list[Any] = [None] * d.n
    for pos, start, end, name in d.plain:
        base[pos] = (start, end, keyless[name].value)
    for pos, start, end in d.elided:
        base[pos] = (start, end, ELIDED)
    template = tuple([None if u is None else keyless[u] for u in d.uses])
    bound: tuple[Any, ...] = (params, base, template,
                              plan.keyed_at(as_of, params) if d.keyed else None)
    bound = (*bound, None if recorder is None else recorder(plan, d, as_of, bound))
    with plan._lock:
        if len(d.dated) > 256:
            d.dated.clear()
        d.dated[as_of] = bound
    return bound

