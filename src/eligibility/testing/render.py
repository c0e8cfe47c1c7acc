"""Turn a counterexample into text a rule author can act on.

:func:`case_yaml` writes a household as a YAML case in the ``cases/*.yaml``
format (exact decimals stay exact, dates stay dates) with the engine's *current*
answer as ``expect:`` — marked for correction, because the invariant says the
current answer is wrong somewhere. :func:`trace` prints how a measure reached
its status: each requirement's outcome, the exception that waived it and the
values the rule saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from eligibility.decision import Decision


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", str(value))


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_multi_representer(str, lambda d, v: d.represent_str(str(v)))


def _flow_members(facts: dict[str, Any]) -> str:
    """YAML of the facts: one line per group, one line per member."""
    lines = []
    for group, value in facts.items():
        if isinstance(value, list):
            lines.append(f"  {group}:")
            for member in value:
                lines.append("    - " + _inline(member))
        else:
            lines.append(f"  {group}: " + _inline(value))
    return "\n".join(lines)


def _inline(value: Any) -> str:
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, allow_unicode=True,
                     sort_keys=False, width=10_000)
    return text.strip().removesuffix("...").strip()


def case_yaml(name: str, facts: dict[str, Any], as_of: date, decision: Decision | None,
              measures: Iterable[str], criteria: Iterable[str], note: str,
              expect_comment: str = "CURRENT output: correct it to what the law requires",
              ) -> str:
    """A ready-to-paste case; ``expect`` holds the current (suspect) outputs."""
    out = [f"name: {_inline(name)}", f"as_of: {as_of.isoformat()}", "facts:",
           _flow_members(facts)]
    if decision is not None:
        by_id = {m.id: m for m in decision.measures}
        crit = {c.id: c for c in decision.criteria}
        expect_m = []
        for mid in measures:
            m = by_id.get(mid)
            if m is None:
                continue
            entry: dict[str, Any] = {"status": m.status}
            if m.amount is not None:
                entry["amount"] = m.amount
            expect_m.append(f"    {mid}: {_inline(entry)}")
        expect_c = [f"    {cid}: {_inline(crit[cid].value)}" for cid in criteria
                    if cid in crit and crit[cid].known]
        if expect_m or expect_c:
            out.append(f"expect:  # {expect_comment}")
            if expect_m:
                out.append("  measures:")
                out.extend(expect_m)
            if expect_c:
                out.append("  criteria:")
                out.extend(expect_c)
    out.append("notes: |")
    out.extend("  " + line for line in note.splitlines())
    return "\n".join(out) + "\n"


def trace(decision: Decision, measures: Iterable[str], criteria: Iterable[str]) -> str:
    """How the named measures and criteria came out, requirement by requirement."""
    lines: list[str] = []
    by_id = {m.id: m for m in decision.measures}
    for mid in measures:
        m = by_id.get(mid)
        if m is None:
            lines.append(f"{mid}: not in force on {decision.as_of}")
            continue
        amount = f", amount {m.amount} {m.unit or ''}".rstrip() if m.amount is not None else ""
        lines.append(f"{mid}: {m.status}{amount}")
        for r in m.reasons:
            waived = f" by {r.exception}" if r.exception else ""
            values = ", ".join(f"{k} = {v}" for k, v in r.values.items())
            lines.append(f"  {r.requirement}: {r.outcome}{waived}"
                         + (f"  [{values}]" if values else ""))
    crit = {c.id: c for c in decision.criteria}
    for cid in criteria:
        c = crit.get(cid)
        if c is not None:
            lines.append(f"criteria.{cid} = {c.value if c.known else 'unknown'}")
    return "\n".join(lines)
