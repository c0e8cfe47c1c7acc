"""The fast path: two-valued execution of a compiled pack when a measure's facts are all there.

For each measure :class:`FastPack` knows every fact it reads (through its lets,
requirements, exceptions, amount, priority groups and the criteria they use,
transitively) and holds a second set of closures compiled from the same AST with
*two-valued* logic: no UNKNOWN checks and no missing-fact bookkeeping. These closures
read one flat *environment* per household (a dict: the facts under their
``group.field`` keys, and under keys starting with ``@`` the parameters in force, the
evaluation date, each criterion and ``let`` value once computed, and the values a
Reason shows), so a fact, criterion or parameter read is one ``itemgetter``. Every
criterion whose facts are present is computed once per household, in dependency order,
and every ``let`` of a complete measure once per measure; the closures then read them
without a cache check.

When every fact a measure reads is present in the household (for a member field:
present on every member), the measure runs on those closures; otherwise each of its
parts that is complete runs on them and the rest on the three-valued reference
(:mod:`eligibility.compile.reference`). With complete facts both evaluate the same
operations, so they return equal outcomes — the differential property tests in
``tests/compile/test_fast.py`` and ``tests/compile/test_fast_mixed.py`` hold them to it,
on households with and without missing facts. Where the fast closures meet an error (a
division by zero, a table key that is not there, an arithmetic overflow) the whole
household is evaluated again on the reference, which raises the error it documents —
the fast path never decides what an error looks like.

A part with facts missing (a criterion, a ``let``, the amount, a requirement, a
priority group) is first tried on the fast closures too: a missing fact, member field,
member list, or a value not computed is a ``KeyError`` there, and then the part goes to
the reference. A part the fast closures finish read only values that are there, along
the same path the reference takes (both stop at the same decisive operand, take the
same branch), so the reference would give the same value with no missing fact — e.g.
``tenure != "own" or criteria.crowded`` for a tenant whose room count is missing, or
an income summed over the adults where the children give none. Such a value then
counts as computed: the reference's caches are seeded with it and the calculation is
recorded from it. A measure whose amount cannot finish on the fast closures (a fact it
reads on every path is missing) goes to the reference whole: its amount, the lets it
reads and its recorded steps are three-valued anyway, and one reference pass over the
measure costs less than trying its other parts first — except its requirements that have
every fact they read and read no ``let`` or amount: those come from the fast closures
and their memo, as where the measure runs part by part.

What is in force on a date, the parameter values and the layout of the environment
are resolved once per ``as_of`` (:class:`_Plan`). A requirement whose shown values
are all facts, criteria or parameters of exact, hashable kinds (true/false, whole
numbers, texts, dates) is decided by those values alone, so its outcome is memoised
per date keyed by them (and a measure made only of such requirements, its whole
outcome); amounts and anything showing a decimal are computed every time. An amount's
calculation is recorded from the environment
(:func:`eligibility.compile.calculation.record_env`; step by step where the amount
lacks facts), its steps decided by exact values memoised likewise. A FastPack
is immutable apart from those bounded, lock-guarded memo tables.

The package's modules: :mod:`~eligibility.compile.fast.reads` (what an expression reads),
:mod:`~eligibility.compile.fast.compiler` (the closures),
:mod:`~eligibility.compile.fast.plan` (the compiled parts, per-date plans, masks, memo
rules), :mod:`~eligibility.compile.fast.run` (evaluating a household) and
:mod:`~eligibility.compile.fast.pack` (:class:`FastPack`, which builds and drives them).
"""

from eligibility.compile.fast.pack import FastPack
from eligibility.compile.fast.reads import Reads

__all__ = ["FastPack", "Reads"]
