"""Differential check of the rete backend against the reference, run as a child process.

``python tests/compile/rete_differential.py PACK EXAMPLES`` draws households
(complete and with facts missing) and evaluation dates from the pack's hypothesis
strategies, and for each compares:

- the rete backend's HouseholdOutcomes with the reference's: every measure's status,
  amount, requirement outcomes (outcome, waiving exception, missing facts, value),
  missing facts, discretionary assessments and priority; every criterion's value and
  missing facts; and the whole Decision JSON the shared builder makes of both;
- incremental re-evaluation: a live rete session updated with one changed fact gives the
  reference's outcomes for the changed household.

It prints ``checked N households, M updates`` and exits 0, or prints the first
difference and exits 1. A crash of durable_rules ends this process, not pytest.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.compile.outcomes import HouseholdOutcomes
from eligibility.compile.rete.backend import ReteBackend
from eligibility.engine import Engine
from eligibility.errors import EligibilityError
from eligibility.pack.loader import load_pack
from eligibility.testing.strategies import evaluation_dates, households


def summary(out: HouseholdOutcomes) -> dict[str, Any]:
    """Everything two backends must agree on, as comparable plain data."""
    measures = {}
    for _, cm, o in out.measures:
        measures[cm.measure.id] = {
            "status": o.status,
            "amount": o.amount,
            "missing": o.missing,
            "discretionary": o.discretionary,
            "priority": o.priority,
            "reasons": [(r.creq.req.id, r.outcome, r.waived_by.id if r.waived_by else None,
                         r.missing, repr(r.value)) for r in o.reasons],
        }
    criteria = {c.criterion.id: (repr(c.value), c.missing) for c in out.criteria}
    return {"measures": measures, "criteria": criteria}


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            found = first_difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    return None if a == b else f"{path}: reference {a!r} != rete {b!r}"


def main(pack_dir: str, examples: int) -> int:
    pack = load_pack(pack_dir)
    ref = Engine(pack)
    rete = Engine(pack, backend="rete")
    live = ReteBackend(ref.compiled)
    dates = evaluation_dates(pack)
    counts = {"households": 0, "updates": 0}
    problems: list[str] = []

    def compare(facts: dict[str, Any], when: date) -> bool:
        try:
            expected = ref.outcomes(facts, when)
        except EligibilityError as exc:
            try:
                rete.outcomes(facts, when)
            except EligibilityError as exc2:
                if type(exc2) is type(exc):
                    return True
            problems.append(f"reference raised {exc!r}, rete did not (or differently)")
            return False
        got = rete.outcomes(facts, when)
        diff = first_difference(summary(expected), summary(got))
        if diff is None:
            a = ref.evaluate(facts, when, "en").model_dump(mode="json")
            b = rete.evaluate(facts, when, "en").model_dump(mode="json")
            diff = first_difference(a, b, "decision")
        if diff:
            problems.append(f"{diff}\n  as_of {when}\n  facts {facts!r}")
            return False
        counts["households"] += 1
        return True

    def compare_update(before: dict[str, Any], after: dict[str, Any], when: date) -> bool:
        try:
            valid0, valid1 = ref.validate(before), ref.validate(after)
            expected = ref.outcomes(valid1, when)
            session = live.open(valid0, when)
        except EligibilityError:
            return True
        with session:
            got = session.update(valid1)
        want = {cm.measure.id: o for _, cm, o in expected.measures}
        for mid, o in want.items():
            g = got[mid]
            left = (o.status, o.amount, o.missing, o.discretionary, o.priority,
                    [(r.creq.req.id, r.outcome, r.missing) for r in o.reasons])
            right = (g.status, g.amount, g.missing, g.discretionary, g.priority,
                     [(r.creq.req.id, r.outcome, r.missing) for r in g.reasons])
            if left != right:
                problems.append(f"incremental {mid}: reference {left!r} != rete {right!r}\n"
                                f"  before {before!r}\n  after {after!r}\n  as_of {when}")
                return False
        counts["updates"] += 1
        return True

    config = settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck), print_blob=False)

    @config
    @given(st.one_of(households(pack, complete=True), households(pack)), dates,
           st.randoms(use_true_random=False))
    def full(facts: dict[str, Any], when: date, rnd: Any) -> None:
        assert compare(facts, when)
        # one fact changed: a group's field or the first member's, flipped, moved or dropped
        after = copy.deepcopy(facts)
        targets = [after[g] for g, v in sorted(after.items()) if isinstance(v, dict) and v]
        if after.get("members") and after["members"][0] and rnd.random() < 0.4:
            targets = [after["members"][0]]
        if targets:
            target = rnd.choice(targets)
            field = rnd.choice(sorted(target))
            value = target[field]
            if rnd.random() < 0.3:
                del target[field]
            elif isinstance(value, bool):
                target[field] = not value
            elif isinstance(value, int | Decimal):
                target[field] = value + rnd.choice([-1, 1, 1000])
            else:
                del target[field]
            assert compare_update(facts, after, when)

    with contextlib.suppress(AssertionError):
        full()
    if problems:
        print(problems[-1])  # the last one is hypothesis' shrunk example
        return 1
    print(f"checked {counts['households']} households, {counts['updates']} updates")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
