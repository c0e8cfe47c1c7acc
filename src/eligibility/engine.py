"""The engine facade: validate facts, run a backend over the compiled pack, build the Decision.

``Engine(pack)`` compiles the pack once (:func:`eligibility.compile.pack.compile_pack`:
every criterion, ``let``, amount, requirement, exception and priority becomes a
closure) and sets up a :class:`~eligibility.decision_build.DecisionBuilder`.
``evaluate(facts, as_of)`` validates the facts, evaluates each measure on the
fast two-valued path when every fact it reads is present and on the three-valued
reference otherwise (:mod:`eligibility.compile.fast`,
:mod:`eligibility.compile.reference`), and hands the outcomes to the builder. An
Engine holds no per-call state: each evaluation gets its own context, so one Engine
can serve many threads.
``Engine(pack, backend="rete")`` evaluates with durable_rules instead
(:mod:`eligibility.compile.rete`, the ``rete`` extra): the same outcomes, every call
serialised behind one lock.

The names other modules build on are re-exported here: ``CompiledPack``,
``CompiledMeasure``, ``CompiledRequirement``, ``Outcomes``, ``HouseholdOutcomes``,
``round_amount``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eligibility.compile.fast import FastPack
from eligibility.compile.outcomes import HouseholdOutcomes, Outcomes, ReasonOutcome
from eligibility.compile.pack import (
    CompiledMeasure,
    CompiledPack,
    CompiledRequirement,
    Fn,
    compile_pack,
)
from eligibility.compile.reference import evaluate_household, evaluate_measure, round_amount
from eligibility.compile.runtime import Ctx
from eligibility.decision import Decision
from eligibility.decision_build import DETAILS, DecisionBuilder, Detail
from eligibility.facts import FactValidator, ValidFacts
from eligibility.options import as_of_date, check_lang
from eligibility.pack.loader import collector_paused
from eligibility.pack.model import RulePack
from eligibility.periods import PeriodResult, evaluate_period
from eligibility.provenance import DecisiveReads, GivenFacts, confirm_list, read_given

#: How an Engine can execute the pack: the reference closures, or durable_rules (rete extra).
BACKENDS = ("reference", "rete")

__all__ = [
    "BACKENDS",
    "CompiledMeasure",
    "CompiledPack",
    "CompiledRequirement",
    "Engine",
    "Fn",
    "HouseholdOutcomes",
    "Outcomes",
    "ReasonOutcome",
    "round_amount",
]


class Engine:
    """Compiles a pack once and evaluates households (see module docstring)."""

    def __init__(self, pack: RulePack, backend: str = "reference") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.pack = pack
        self.backend = backend
        with collector_paused():  # compiling allocates many objects and frees none
            self.validator = FactValidator(pack.schema)
            self.compiled = compile_pack(pack)
            self.fast = FastPack(self.compiled)
            self.builder = DecisionBuilder(self.compiled)
            self.decisive = DecisiveReads(self.fast)  # what each outcome depended on
        self._rete: Any = None
        if backend == "rete":  # durable_rules (optional extra); compiles and registers now
            from eligibility.compile.rete.backend import ReteBackend

            self._rete = ReteBackend(self.compiled)

    @property
    def measures(self) -> tuple[CompiledMeasure, ...]:
        """Every compiled measure, in pack order."""
        return self.compiled.measures

    def parameters_at(self, as_of: date) -> tuple[dict[str, Any], frozenset[str]]:
        """The value of every parameter on ``as_of``, and which of them are unconfirmed."""
        return self.compiled.parameters_at(as_of)

    def given(self, facts: Any) -> GivenFacts:
        """Parse a facts document's ``{value, source, confirmed}`` wrappers and dated
        values (:mod:`eligibility.provenance`; raises FactsError)."""
        return read_given(facts, self.pack.meta.fact_sources, self.pack.schema)

    def validate(self, facts: Any, as_of: date | None = None) -> ValidFacts:
        """Validate raw facts against the pack's schema (raises FactsError); dated
        values are read on ``as_of`` (default: today)."""
        if isinstance(facts, ValidFacts):
            return facts
        quick = self.validator.quick(facts)  # a plain, well-typed document
        if quick is not None:
            return quick
        given = self.given(facts)
        if not given.plain:
            facts = given.at(as_of or date.today())
        return self.validator.validate(facts)

    def context(self, facts: ValidFacts, as_of: date) -> Ctx:
        """A fresh evaluation context for ``facts`` at ``as_of``."""
        params, _ = self.parameters_at(as_of)
        return Ctx(facts.flat, facts.members, as_of, params)

    def evaluate_measure(self, cm: CompiledMeasure, ctx: Ctx) -> Outcomes:
        """Evaluate one compiled measure in ``ctx`` (criteria cache is shared)."""
        requirements = self.compiled.in_force_at(ctx.as_of).requirements[cm.index]
        return evaluate_measure(cm, ctx, requirements, calculation=False)

    def outcomes(self, facts: Any, as_of: date | str | None = None,
                 observe: bool = True, calculation: bool = True) -> HouseholdOutcomes:
        """The raw outcomes for one household (what the decision builder consumes);
        ``observe=False`` skips recording the values each reason shows, ``calculation``
        records the steps of every amount."""
        when = as_of_date(as_of)
        if self._rete is not None:
            rete: HouseholdOutcomes = self._rete.outcomes(self.validate(facts, when), when,
                                                          calculation)
            return rete
        return self.fast.evaluate_household(self.validate(facts, when), when, observe,
                                            calculation)

    def reference_outcomes(self, facts: Any, as_of: date | str | None = None,
                           observe: bool = True, calculation: bool = True,
                           ) -> HouseholdOutcomes:
        """:meth:`outcomes` on the three-valued reference alone (no fast path)."""
        when = as_of_date(as_of)
        return evaluate_household(self.compiled, self.validate(facts, when), when,
                                  observe, calculation)

    def evaluate(self, facts: Any, as_of: date | str | None = None, lang: str = "nb",
                 calculation: bool = True, detail: Detail = "full") -> Decision:
        """Evaluate one household's facts at ``as_of`` (a date or ``"YYYY-MM-DD"``;
        default: today) with texts in ``lang`` (``nb``, ``nn`` or ``en``; anything else
        is an :class:`~eligibility.options.OptionError`).

        ``calculation`` puts the steps of every amount into the Decision.
        ``detail="summary"`` gives statuses, amounts, criteria, missing facts and
        provenance, with no per-requirement reasons (``reasons`` is empty) and no
        calculation."""
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
        lang = check_lang(lang)
        full = detail == "full"
        when = as_of_date(as_of)
        given = None
        if not isinstance(facts, ValidFacts):
            quick = self.validator.quick(facts)  # a plain, well-typed document
            if quick is not None:
                facts = quick
            elif type(facts) is dict and self.validator.plain_shape(facts):
                facts = self.validator.validate(facts, plain=True)  # plain values only
            else:
                given = self.given(facts)
                facts = self.validator.validate(given.at(when) if not given.plain else facts)
        outcomes = self.outcomes(facts, when, observe=full, calculation=calculation and full)
        decision = self.builder.build(outcomes, lang, detail)
        return decision if given is None or given.plain else confirm_list(
            self, given, when, decision, outcomes)

    def evaluate_period(self, facts: Any, start: date | str, end: date | str,
                        monthly: bool = False, lang: str = "nb",
                        detail: Detail = "full") -> PeriodResult:
        """One result per sub-period of ``start``..``end`` (dates or ``"YYYY-MM-DD"``),
        split wherever something the decision uses changes (see :mod:`eligibility.periods`)."""
        return evaluate_period(self, facts, as_of_date(start), as_of_date(end), monthly,
                               check_lang(lang), detail)

    def evaluate_json(self, facts: Any, as_of: date | str | None = None, lang: str = "nb",
                      calculation: bool = True, detail: Detail = "full") -> bytes:
        """:meth:`evaluate` serialised once to compact JSON bytes (the bytes of
        ``model_dump_json()``; see :func:`~eligibility.decision_build.decision_bytes`)."""
        return self.builder.json(self.evaluate(facts, as_of, lang, calculation, detail))

    def title_of(self, path: str, lang: str) -> str:
        """The short title of the fact at ``path``."""
        return self.builder.title_of(path, lang)

    def question(self, path: str, lang: str) -> str:
        """How to ask for the fact at ``path`` (``members[2].age`` → the members.age field)."""
        return self.builder.question(path, lang)
