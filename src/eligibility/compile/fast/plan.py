"""The fast path's compiled parts and per-date plans: :class:`FastRequirement` and
:class:`FastMeasure` (a requirement's and a measure's two-valued closures, their Reads
and where their shown values are kept, made once per pack), :class:`_MeasurePlan` and
:class:`_Plan` (what one date needs: the environment's base, what is in force, its
memo tables), :class:`_At` and the masks (the bit mask of each part's Reads, so the
bits a household lacks say at once which parts have their facts),
and the memo rules (:func:`_remember`: bounded tables written under the pack's lock;
the per-date ones live on the plans, a requirement's shared outcomes on it).
Data only: :mod:`eligibility.compile.fast.pack` builds these and
:mod:`eligibility.compile.fast.run` evaluates with them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple

from eligibility.compile.calculation import EnvStep
from eligibility.compile.fast.compiler import EFn, Env
from eligibility.compile.fast.reads import _NONE_STRICT, Reads, Strict
from eligibility.compile.outcomes import Outcomes, ReasonOutcome
from eligibility.compile.pack import CompiledMeasure, CompiledRequirement, Fn
from eligibility.pack.model import Criterion, RuleException

#: entries per memo table (emptied when full) and dates with a plan kept
_MEMO_LIMIT = 256
_PLAN_LIMIT = 256
#: outcomes kept per requirement (:attr:`FastRequirement.shared`; emptied when full)
_SHARED_LIMIT = 256
#: how a requirement's observed outcomes are shared (:attr:`FastRequirement.share`):
#: its shown values are of exact kinds by their expressions; maybe (each value's class
#: is asked); never (one is a decimal fact, ``let`` or criterion)
_SHARE_EXACT, _SHARE_CHECK, _SHARE_NEVER = 2, 1, 0
#: entries of a date's memo of its memoisable measures and criteria together (their
#: values combine, so there are more of them; each entry only points at shared outcomes)
_STATIC_LIMIT = 2048

class FastRequirement:
    """A requirement's two-valued closures, where its shown values are found, its
    met / not met outcomes without shown values (made once), and the memo of its
    outcomes with shown values of exact kinds (:attr:`shared`)."""

    __slots__ = ("creq", "discretionary", "exceptions", "fn", "getter", "id", "keys",
                 "labels", "memo_ok", "met", "not_met", "observed", "reads", "reads_exact",
                 "share", "shared", "single", "strict", "strict_shown", "values")

    def __init__(self, creq: CompiledRequirement, fn: EFn | None,
                 exceptions: tuple[tuple[RuleException, EFn], ...],
                 observed: tuple[tuple[str, EFn], ...], keys: tuple[str, ...],
                 memo_ok: bool, reads: Reads,
                 reads_exact: tuple[tuple[str, ...], tuple[str, ...] | None] | None = None,
                 strict: Strict = _NONE_STRICT, strict_shown: Strict = _NONE_STRICT,
                 share: int = _SHARE_CHECK) -> None:
        self.creq = creq
        self.reads = reads
        self.fn = fn
        self.exceptions = exceptions
        #: (label, closure) per shown value, for when a value is not in the environment
        self.observed = observed
        self.labels = tuple(label for label, _ in observed)
        self.keys = keys  # where each shown value is kept in the environment
        #: the shown values from the environment: one value when there is one, a tuple
        #: otherwise (KeyError when one is not there yet)
        self.getter: Callable[[Env], Any] = itemgetter(*keys) if keys else _empty
        self.single = len(keys) == 1
        #: what the getter gives → the shown values by label
        self.values = _dict_of(self.labels)
        #: decided by the shown values alone, which are always in the environment
        self.memo_ok = memo_ok
        #: every fact and member field the requirement reads (through its lets and
        #: criteria too; None for the member fields when it reads no member list), when
        #: they are all of exact, hashable kinds and it does not read ``amount``: then
        #: with facts missing its reference outcome is decided by their values (per
        #: member) and which of them are absent (None otherwise)
        self.reads_exact = reads_exact
        #: what its expression reads on every path, and that with its shown values
        self.strict = strict
        self.strict_shown = strict_shown
        self.id = creq.req.id
        self.discretionary = creq.req.discretionary
        self.met = ReasonOutcome(creq, "met", None, (), True)
        self.not_met = ReasonOutcome(creq, "not_met", None, (), False)
        #: one ReasonOutcome per (outcome, exception, value, shown values) where those
        #: are of :data:`~eligibility.compile.outcomes.EXACT_CLASSES` (each class in the
        #: key: True == 1), so equal outcomes of unseen households are one object (the
        #: decision builder finds what it built from it by identity); written through
        #: :func:`_remember`, for every date (nothing in it depends on one)
        self.shared: dict[Any, ReasonOutcome] = {}
        #: whether (:data:`_SHARE_EXACT`, …) its shown values may key :attr:`shared`
        self.share = share


def _empty(env: Env) -> tuple[()]:
    return ()


@dataclass(frozen=True)
class FastMeasure:
    cm: CompiledMeasure
    reads: Reads  # everything the measure reads
    amount: EFn | None
    amount_reads: Reads
    rounding: str
    requirements: tuple[FastRequirement, ...]
    #: (rank, title, two-valued fn, reads, reference fn) per priority group
    priority: tuple[tuple[int, Any, EFn, Reads, Fn], ...]
    #: (name, environment key, two-valued fn, reads) per let, in order
    lets: tuple[tuple[str, str, EFn, Reads], ...]
    #: environment keys the priority groups are decided by, or None when they are not
    #: decided by memoisable, always-present values
    priority_keys: tuple[str, ...] | None
    #: the amount's calculation steps over the environment (:func:`record_env`), or None
    calculation: tuple[EnvStep, ...] | None = None
    #: what each of those steps reads (a let's, a criterion's, the amount's Reads)
    calculation_reads: tuple[Reads, ...] = ()
    #: per step, a getter of the environment values that decide it whole (facts,
    #: criteria, lets of exact, hashable kinds; no member list), or None
    calculation_inputs: tuple[Callable[[Env], Any] | None, ...] = ()
    #: what the amount, each let and each priority group read on every path
    amount_strict: Strict = _NONE_STRICT
    lets_strict: tuple[Strict, ...] = ()
    priority_strict: tuple[Strict, ...] = ()


@dataclass(frozen=True)
class _MeasurePlan:
    index: int
    cm: CompiledMeasure
    fm: FastMeasure
    requirements: tuple[FastRequirement, ...]  # in force
    reference: tuple[CompiledRequirement, ...]  # the same, for the reference
    #: the whole outcome memoised by these values (None: not memoisable), per observe
    keys: tuple[str, ...] | None
    getter: Callable[[Env], Any] | None
    memo: tuple[dict[Any, Outcomes], dict[Any, Outcomes]]
    #: the requirements decided by their shown values (memo_ok), memoised together by
    #: the values: (reasons with None where another requirement goes, failed, unknown,
    #: discretionary), per observe
    group: tuple[tuple[int, FastRequirement], ...]
    group_getter: Callable[[Env], Any] | None
    group_memo: tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]
    #: the other requirements, by position
    rest: tuple[tuple[int, FastRequirement], ...]
    #: where the measure runs with facts missing (:func:`_run`): the outcome of each
    #: requirement that is ``memo_ok``, memoised by (its position, its shown values);
    #: not observed, observed
    run_memo: tuple[dict[Any, ReasonOutcome], dict[Any, ReasonOutcome]]
    #: calculation steps decided by their inputs (``FastMeasure.calculation_inputs``),
    #: by (position, inputs), for this plan's date
    step_memo: dict[Any, Any] = field(default_factory=dict)
    #: where in a layout (:func:`_layout`) each part of the measure is found
    at: _At | None = None

    def fresh(self) -> _MeasurePlan:
        """The same plan with empty memos of its own (for another date)."""
        return _MeasurePlan(self.index, self.cm, self.fm, self.requirements, self.reference,
                            self.keys, self.getter, ({}, {}), self.group, self.group_getter,
                            ({}, {}), self.rest, ({}, {}), at=self.at)


class _At(NamedTuple):
    """A measure's parts' places among :attr:`_Plan.masks` (the mask of what each part
    reads), and those masks: a household has every fact a part reads where none of the
    mask's bits is among the bits it lacks (see :func:`~eligibility.compile.fast.run._lack`)."""

    reads: int
    amount: int
    lets: tuple[int, ...]
    requirements: tuple[int, ...]
    priority: tuple[int, ...]
    #: the masks (:attr:`_Plan.masks`' bits) of what the amount, each let, each
    #: requirement (not observed, observed) and each priority group read on every path
    #: (:func:`~eligibility.compile.fast.reads.strict_of`): one of those bits lacking,
    #: the fast closures fail
    amount_strict: int = 0
    lets_strict: tuple[int, ...] = ()
    requirements_strict: tuple[tuple[int, int], ...] = ()
    priority_strict: tuple[int, ...] = ()
    #: the masks of what the whole measure and its amount read
    reads_mask: int = 0
    amount_mask: int = 0
    #: the parts as :func:`~eligibility.compile.fast.run._run` walks them, each with the
    #: mask of what it reads and its strict mask above (one tuple per part, not parallel
    #: ones): per let (name, environment key, fn, whether it reads ``amount``, mask,
    #: strict); per requirement (position, it, mask, strict (not observed, observed),
    #: memo_ok, whether it reads ``amount``, its exact reads (:class:`_ExactReads`) or
    #: None); per priority group (rank, title, fn, reference fn, mask, strict)
    lets_run: tuple[tuple[str, str, EFn, bool, int, int], ...] = ()
    requirements_run: tuple[tuple[int, FastRequirement, int, tuple[int, int], bool, bool,
                                  _ExactReads | None], ...] = ()
    priority_run: tuple[tuple[int, Any, EFn, Fn, int, int], ...] = ()


class _ExactReads(NamedTuple):
    """:attr:`FastRequirement.reads_exact` as :func:`~eligibility.compile.fast.run._run`
    keys its memo by it: the facts, the member fields (None: no member list read), and
    as many UNKNOWNs as each (the default of each ``get``, for ``map``)."""

    facts: tuple[str, ...]
    fields: tuple[str, ...] | None
    facts_unknown: tuple[Any, ...]
    fields_unknown: tuple[Any, ...]


@dataclass(frozen=True)
class _Plan:
    """What one date needs: the environment's base, the measures and criteria in force."""

    as_of: date
    params: dict[str, Any]
    unconfirmed: frozenset[str]
    base: Env
    measures: tuple[_MeasurePlan, ...]
    #: criteria to compute, in dependency order: (id, key, fn, reads)
    criteria_eval: tuple[tuple[str, str, EFn, Reads], ...]
    #: criteria in force: (criterion, key, reads, reference cached fn)
    criteria: tuple[tuple[Criterion, str, Reads, Fn], ...]
    #: the criteria's values, when all are of memoisable kinds (else None)
    criteria_getter: Callable[[Env], Any] | None
    reads: Reads  # everything above reads
    #: the measures whose whole outcome is decided by facts, criteria and parameters of
    #: memoisable kinds (no amount, no let), memoised together with the criteria's
    #: outcomes and the other measures' groups (``folded``) by those values: (measures,
    #: with None where another goes; criteria or None; per measure of ``dynamic``, its
    #: group's outcomes (see ``_MeasurePlan.group``) or None), per observe
    static_getter: Callable[[Env], Any]
    static_memo: tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]
    #: the other measures, by position
    dynamic: tuple[tuple[int, _MeasurePlan], ...]
    #: every Reads above (each part of what is in force)
    every: tuple[Reads, ...]
    #: a bit per fact and member field read above, the member list's bit, and the
    #: distinct masks of those bits of the Reads of ``every``; a part's place among them
    #: is in its measure's ``_MeasurePlan.at`` (and ``criteria_at``)
    bits: dict[str, int] = field(default_factory=dict)
    member_bits: dict[str, int] = field(default_factory=dict)
    members_bit: int = 0
    masks: tuple[int, ...] = ()
    #: each of ``criteria_eval``'s place among ``masks``, and the mask of what it reads
    #: on every path (see :class:`_At`)
    criteria_at: tuple[int, ...] = ()
    criteria_strict: tuple[int, ...] = ()
    #: per measure of ``dynamic``: whether its group's outcomes are in the static memo
    #: (its group is not decided by a ``let``, its whole outcome not memoised)
    folded: tuple[bool, ...] = ()
    #: the measures not in ``dynamic``, by position
    static: tuple[tuple[int, _MeasurePlan], ...] = ()
    #: per criterion that is a calculation step: (environment key, reference cache key)
    #: of each aggregate it shows (see :func:`~eligibility.compile.fast.run._context`)
    criteria_kept: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    #: ``criteria_eval`` as :func:`~eligibility.compile.fast.run._mixed` walks it:
    #: (id, key, fn, mask, strict) each
    criteria_run: tuple[tuple[str, str, EFn, int, int], ...] = ()


def _mask(reads: Reads, bits: dict[str, int], member_bits: dict[str, int],
          members_bit: int) -> int:
    """The bits of what ``reads`` reads (see :attr:`_Plan.masks`)."""
    mask = sum(bits[f] for f in reads.facts)
    if reads.members:
        mask |= members_bit | sum(member_bits[f] for f in reads.member_fields)
    return mask


def _remember(lock: threading.Lock, memo: dict[Any, Any], key: Any, value: Any,
              limit: int = _MEMO_LIMIT) -> None:
    with lock:
        if len(memo) >= limit:
            memo.clear()
        memo[key] = value


def _dict_of(labels: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    """Values as an itemgetter over ``labels``' keys gives them (one value, or a tuple)
    → a dict by label; a dict display for up to three (faster than ``dict(zip())``)."""
    if len(labels) == 1:
        (a,) = labels
        return lambda v: {a: v}
    if len(labels) == 2:
        a, b = labels
        return lambda v: {a: v[0], b: v[1]}
    if len(labels) == 3:
        a, b, c = labels
        return lambda v: {a: v[0], b: v[1], c: v[2]}
    return lambda v: dict(zip(labels, v, strict=True))

