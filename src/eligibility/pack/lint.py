"""Warnings about a loaded pack: things that do not stop it loading but weaken what it explains.

Each function takes a :class:`~eligibility.pack.model.RulePack` and returns
:class:`~eligibility.errors.Diagnostic` values with ``code="warning"`` and the
position of the rule text; ``eligibility check`` prints them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass

from eligibility.errors import Diagnostic
from eligibility.expr import ast
from eligibility.pack.model import Measure, RulePack, Text


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


def pack_texts(value: object, seen: set[int]) -> Iterator[Text]:
    """Every :class:`Text` reachable from ``value`` (the frozen IR's dataclasses, tuples
    and mappings), each once."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Text):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from pack_texts(getattr(value, f.name), seen)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from pack_texts(item, seen)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from pack_texts(item, seen)


def texts_without_nynorsk(pack: RulePack) -> list[Diagnostic]:
    """One warning when texts of a pack that does not promise nynorsk lack it.

    A pack that lists ``nn`` in pack.yaml's ``languages`` cannot load with a text
    without it (the loader refuses it at file:line); any other pack loads, and a page
    or terminal in nynorsk shows (and marks) bokmål for what is missing.
    """
    if "nn" in pack.meta.languages:
        return []
    texts = list(pack_texts(pack, set()))
    lacking = sum(1 for t in texts if not t.nn)
    if not lacking:
        return []
    return [Diagnostic(
        str(pack.root / "pack.yaml"), 1, 1,
        f"{lacking} of {len(texts)} texts have no nynorsk (nn); in nynorsk they are shown "
        "in bokmål", "add nn: beside nb and list nn in pack.yaml's languages, so that the "
        "loader holds every text to it", code="warning")]
