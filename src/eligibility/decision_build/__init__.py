"""The decision builder: outcomes from any backend → one :class:`~eligibility.decision.Decision`.

:class:`DecisionBuilder` owns everything textual about a decision: requirement and
measure titles in the chosen language, the messages rendered from the catalogs in
:mod:`eligibility.explain.messages`, measure summaries, the questions for missing
facts, the ordering of measures (goal, status, priority, pack order) and the
provenance block. It reads only the compiled pack and the
:class:`~eligibility.compile.outcomes.HouseholdOutcomes`; it never evaluates rules,
so every backend gets the same Decision for the same outcomes.

It builds the Decision once and never validates it again: the engine's outcomes
already have the contract's types, so the models are made with
:func:`construct` (no pydantic validation; the JSON bytes are those a validated
Decision gives). Static parts — titles, source lists, per-language messages that
depend only on the rule, a criterion's result templates — are made once per
builder and shared by every Decision (Decisions are frozen; do not mutate their
lists). Equal reasons, criterion results, measure results and calculation steps are
shared too, through small memos per requirement, criterion and step (bounded: a memo
is emptied when full; written under a lock, so one builder serves many threads); a
reason or step showing a decimal of the household is built each time and not kept (a
criterion's result for a decimal is kept by its text the second time it is met; a
criterion of ever-new values keeps none).
The fast core hands the builder the very same (immutable) ``Outcomes`` and
``ReasonOutcome`` objects again for households that share their shown values, so
what is built from such an object is also kept by its identity (:class:`IdentityMemo`:
the object itself is held with what was built from it, so its ``id()`` cannot be
reused while the entry lives): a repeated measure result or reason costs one look-up.
An object goes in only when it is seen again — found, as the same object, in the memo
by values — or, for a measure's outcome and the criteria's, when something besides the
household holds it (``sys.getrefcount``: the core's memos hold the outcomes they share),
so outcomes made afresh for one household are not kept alive.
A measure result is its head — every field but the reasons, amount and calculation,
decided by the status and each reason's outcome, kept per measure (for a full result
once seen twice) — and this household's parts. Every requirement's Reason templates
and every measure's static fields are made when the builder starts.
:meth:`DecisionBuilder.json` writes a Decision's JSON with the JSON of the parts
Decisions share kept (orjson fragments), and of the source lists (a requirement's, a
measure's, a step's) a part shows, so that a part made for one household writes its
sources in one piece.
``detail="summary"`` leaves out every measure's per-requirement reasons and
its calculation; a summary result is then found by one key of its outcome's parts
(status, priority, missing facts, discretionary assessments, each reason's outcome and
waiving exception), and one that shows an amount is that shared head with this
household's amount. A result's place in the order (goal, status, priority, pack order)
is one int, made with the result and kept with it.

The package: :mod:`.builder` (:class:`DecisionBuilder` and the static parts it keeps
per language), :mod:`.encoding` (:func:`decision_bytes` and the builder's
:class:`~eligibility.decision_build.encoding.DecisionEncoder`), :mod:`.memo` (the bounded
memos, :class:`IdentityMemo`).
"""

from eligibility.decision import construct
from eligibility.decision_build.builder import DETAILS, DecisionBuilder, Detail
from eligibility.decision_build.encoding import decision_bytes
from eligibility.decision_build.memo import IdentityMemo

__all__ = ["DETAILS", "DecisionBuilder", "Detail", "IdentityMemo", "construct", "decision_bytes"]
