"""Warnings about a loaded pack: things that do not stop it loading but weaken what it explains.

Each function takes a :class:`~eligibility.pack.model.RulePack` and returns
:class:`~eligibility.errors.Diagnostic` values with ``code="warning"`` and the
position of the rule text; ``eligibility check`` prints them.
"""

from __future__ import annotations

from eligibility.errors import Diagnostic
from eligibility.expr import ast
from eligibility.pack.model import Measure, RulePack


def amount_steps(measure: Measure) -> list[str]:
    """The ``let`` names the measure's amount depends on (transitively), then ``amount``."""
    if measure.amount is None:
        return []
    lets = dict(measure.lets)
    needed: set[str] = set()
    stack = [n.dotted for n in ast.walk(measure.amount.expr.node) if isinstance(n, ast.Name)]
    while stack:
        name = stack.pop()
        if name in lets and name not in needed:
            needed.add(name)
            stack.extend(n.dotted for n in ast.walk(lets[name].node) if isinstance(n, ast.Name))
    return [name for name, _ in measure.lets if name in needed] + ["amount"]


def untitled_amount_steps(pack: RulePack) -> list[Diagnostic]:
    """A warning for every step of an amount's calculation that has no title."""
    out: list[Diagnostic] = []
    for measure in pack.measures:
        for name in amount_steps(measure):
            step = measure.step(name)
            if step is None or step.title is not None:
                continue
            what = "the amount" if name == "amount" else f"the `let` value {name!r}"
            out.append(Diagnostic(
                step.mark.file, step.mark.line, step.mark.column,
                f"measure {measure.id!r}: {what} is a step of the amount's calculation "
                "but has no title",
                "write it as {value: ..., title: {nb: ..., en: ...}} so the calculation "
                "can name it", code="warning"))
    return out
