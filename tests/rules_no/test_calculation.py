"""Every bostøtte and startlån case of the bundled pack: the engine's calculation agrees,
step by step and to the øre, with the figures worked by hand in the case file.

What this proves: for each case, each step named under ``expect.measures.<id>.steps``
(transcribed from the case's ``notes``, where the hand calculation is written out) has
the same value, rounded to the øre, in the Decision's ``calculation``. What it does not
prove: steps a case does not name, and cases without a worked amount (listed below).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from eligibility import Engine, RulePack
from eligibility.decision import MeasureResult
from eligibility.pack.model import Case
from eligibility.testing.cases import step_problems, to_ore

ROOT = Path(__file__).resolve().parents[2]
MEASURES = ("bostotte", "startlan")
#: cases that expect an amount but whose notes work it in another case file
WORKED_ELSEWHERE = {("enslig-oslo-lavinntekt.yaml", "bostotte"): "bostotte-enslig-oslo-2026.yaml"}


def _worked(pack: RulePack) -> list[tuple[Case, str]]:
    return [(c, mid) for c in pack.cases for mid in MEASURES
            if "steps" in c.expect_measures.get(mid, {})]


def _written(number: Decimal, notes: str) -> bool:
    """Whether ``number`` is written in the notes (thousands may be spaced: 39 487.6472)."""
    joined = re.sub(r"(?<=\d) (?=\d{3}\b)", "", notes)
    text = f"{number:f}"
    variants = {text, text.rstrip("0").rstrip(".") if "." in text else text}
    return any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", joined) for v in variants)


def test_every_case_with_a_worked_amount_states_its_steps(pack: RulePack) -> None:
    missing = []
    for case in pack.cases:
        for mid in MEASURES:
            expect = case.expect_measures.get(mid, {})
            if "amount" in expect and "steps" not in expect \
                    and (Path(case.file).name, mid) not in WORKED_ELSEWHERE:
                missing.append(f"{case.file} {mid}")
    assert missing == []
    assert len(_worked(pack)) >= 20


def test_expected_steps_are_the_figures_written_in_the_notes(pack: RulePack) -> None:
    unwritten = []
    for case, mid in _worked(pack):
        for name, value in case.expect_measures[mid]["steps"].items():
            if not _written(Decimal(value), case.notes or ""):
                unwritten.append(f"{case.file} {mid}.{name} = {value}")
    assert unwritten == []


def test_calculation_agrees_with_the_hand_worked_figures(pack: RulePack,
                                                         engine: Engine) -> None:
    problems: list[str] = []
    for case, mid in _worked(pack):
        decision = engine.evaluate(case.facts, as_of=case.as_of, lang="en")
        measure = decision.measure(mid)
        problems.extend(f"{case.file}: {p}" for p in
                        step_problems(measure, case.expect_measures[mid]["steps"]))
        # the last step is the amount, equal to the Decision's amount when one is given
        assert measure.calculation is not None and measure.calculation[-1].name == "amount"
        if measure.amount is not None:
            assert measure.calculation[-1].value == measure.amount
    assert problems == []


def test_a_one_ore_difference_is_reported(pack: RulePack, engine: Engine) -> None:
    case = next(c for c in pack.cases if c.file.endswith("bostotte-enslig-oslo-2026.yaml"))
    measure: MeasureResult = engine.evaluate(case.facts, as_of=case.as_of).measure("bostotte")
    assert step_problems(measure, {"egenandel": Decimal("39487.65")}) == []
    (problem,) = step_problems(measure, {"egenandel": Decimal("39487.66")})
    assert "step 'egenandel' expected 39487.66, got 39487.65" in problem
    assert step_problems(measure, {"nope": 1}) == ["bostotte: no calculation step 'nope'"]
    assert to_ore(Decimal("0.005")) == Decimal("0.01")
