"""The recorder of an amount's calculation: which steps, compiled once, recorded per household.

:func:`plan_calculation` (:mod:`.planning`) turns a measure with an ``amount`` into a
:class:`CalculationPlan` once, when the pack is compiled: the named values the amount
depends on (its ``let`` values, the numeric criteria they read, and the amount itself)
in the order the rule file writes them — which is the order of the regulation they
encode — each with its title, unit and sources, and the look-ups (``param(...)``),
facts and named values inside its expression. :func:`record` (:mod:`.recording`) reads
one evaluation context *after* the reference evaluation has computed the amount and
returns the :class:`RecordedStep` tuple: every step's exact value (or the facts it
waits for), the parameters it used with the dated version that applied, and the values
to put into its expression. Recording reads what the evaluation already computed — the
unrounded amount, the ``let`` and criterion values in its caches, the facts, and the
aggregates and `if` conditions of the steps, which the reference's closures keep in
those caches where :func:`kept_keys` says — and evaluates only what it did not keep (a
parameter look-up is read once from its keys; a value the evaluation skipped, e.g. past
a decided ``and``, is computed then). It never changes the outcome. The dated version of
every parameter a plan looks up is resolved once per date and each :class:`ParamUse` is
made once per date and keys, then shared. A backend with its own environment and
closures (the fast path) gets the same steps from :func:`env_steps` (:mod:`.layout`:
each step laid out once, per way its `if` conditions come out) and :func:`record_env`,
reading the values it kept there instead of a context. The Decision, the terminal table
and the README examples are read-only views over this record
(:mod:`eligibility.explain.calculation`).
"""

from eligibility.compile.calculation.layout import EnvStep, env_steps
from eligibility.compile.calculation.planning import (
    ELIDED,
    CalculationPlan,
    ParamUse,
    RecordedStep,
    StepId,
    StepKind,
    criteria_kept_keys,
    kept_keys,
    measure_kept_keys,
    plan_calculation,
)
from eligibility.compile.calculation.recording import record, record_env

__all__ = [
    "ELIDED",
    "CalculationPlan",
    "EnvStep",
    "ParamUse",
    "RecordedStep",
    "StepId",
    "StepKind",
    "criteria_kept_keys",
    "env_steps",
    "kept_keys",
    "measure_kept_keys",
    "plan_calculation",
    "record",
    "record_env",
]
