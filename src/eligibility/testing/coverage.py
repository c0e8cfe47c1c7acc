"""Rule coverage: which requirements, exceptions and branches a set of decisions exercised.

Coverage is computed from Decisions alone (each Reason names its requirement,
outcome and the exception that waived it), so it needs no hook in the engine.
The items of a pack are:

* requirement ``measure.requirement`` — covered when some decision settles it
  (``met``, ``not_met``, ``waived`` or ``discretionary``; ``unknown`` does not count);
* exception ``measure.requirement.exception`` — covered when it waived the requirement;
* branch ``measure.requirement:met`` / ``:not_met`` (a requirement's two ways out;
  a discretionary requirement has one, ``:discretionary``) and
  ``measure:eligible`` / ``:not_eligible`` (the measure's two determined statuses).
  A measure that always holds a discretionary requirement no exception can waive is
  never ``eligible`` by design — the caseworker decides — so its positive branch is
  ``measure:discretion`` instead: undetermined with nothing left to ask but the
  caseworker's assessment.

A :class:`Coverage` is an accumulator owned by whoever runs the evaluations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from eligibility.decision import Decision
from eligibility.pack.model import Measure, RulePack

KINDS = ("requirements", "exceptions", "branches")
_SETTLED = frozenset({"met", "not_met", "waived", "discretionary"})


def coverage_items(pack: RulePack) -> dict[str, list[str]]:
    """Every coverable item of the pack, by kind, in pack order."""
    items: dict[str, list[str]] = {k: [] for k in KINDS}
    for m in pack.measures:
        for r in m.requirements:
            items["requirements"].append(f"{m.id}.{r.id}")
            items["exceptions"].extend(f"{m.id}.{r.id}.{e.id}" for e in r.exceptions)
            if r.discretionary:
                items["branches"].append(f"{m.id}.{r.id}:discretionary")
            else:
                items["branches"].extend((f"{m.id}.{r.id}:met", f"{m.id}.{r.id}:not_met"))
        best = "discretion" if _always_discretionary(m) else "eligible"
        items["branches"].extend((f"{m.id}:{best}", f"{m.id}:not_eligible"))
    return items


def _always_discretionary(m: Measure) -> bool:
    return any(r.discretionary and not r.exceptions and r.valid_from is None
               and r.valid_to is None for r in m.requirements)


@dataclass
class Coverage:
    """Accumulates the items that decisions exercised (see module docstring)."""

    pack: RulePack
    seen: set[str] = field(default_factory=set)
    decisions: int = 0

    def record(self, decision: Decision) -> None:
        self.decisions += 1
        seen = self.seen
        for m in decision.measures:
            if m.status in ("eligible", "not_eligible"):
                seen.add(f"{m.id}:{m.status}")
            elif m.discretionary and not m.missing_facts:
                seen.add(f"{m.id}:discretion")
            for r in m.reasons:
                key = f"{m.id}.{r.requirement}"
                if r.outcome in _SETTLED:
                    seen.add(key)
                if r.outcome == "waived" and r.exception:
                    seen.add(f"{key}.{r.exception}")
                if r.outcome in ("met", "not_met", "discretionary"):
                    seen.add(f"{key}:{r.outcome}")

    def record_all(self, decisions: Iterable[Decision]) -> None:
        for d in decisions:
            self.record(d)

    def report(self) -> CoverageReport:
        items = coverage_items(self.pack)
        return CoverageReport(
            {k: [i for i in v if i in self.seen] for k, v in items.items()},
            {k: [i for i in v if i not in self.seen] for k, v in items.items()},
            self.decisions,
        )


@dataclass(frozen=True)
class CoverageReport:
    """Covered and missed items by kind."""

    covered: dict[str, list[str]]
    missed: dict[str, list[str]]
    decisions: int

    def percent(self, kind: str | None = None) -> float:
        """Coverage in per cent of one kind, or of all items together."""
        kinds = [kind] if kind else list(KINDS)
        hit = sum(len(self.covered[k]) for k in kinds)
        total = hit + sum(len(self.missed[k]) for k in kinds)
        return 100.0 if total == 0 else 100.0 * hit / total

    def summary(self) -> str:
        parts = [f"{k} {len(self.covered[k])}/{len(self.covered[k]) + len(self.missed[k])}"
                 for k in KINDS]
        return f"{self.percent():.1f}% (" + ", ".join(parts) + ")"
