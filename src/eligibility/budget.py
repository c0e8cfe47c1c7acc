"""Time budgets for the search tools (why-not, counterfactual, sweep).

A :class:`Deadline` is made once per request (``Deadline.after(seconds)``; ``None``
means no budget) and checked before each probe evaluation; when it has passed,
:meth:`Deadline.check` raises :class:`~eligibility.errors.BudgetExceeded`. The
search tools catch it and return what they found so far marked ``partial``; the
HTTP service passes :data:`~eligibility.limits.SEARCH_BUDGET_SECONDS` so that no
request keeps a worker busy for long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from eligibility.errors import BudgetExceeded


@dataclass(frozen=True)
class Deadline:
    """The moment (``time.monotonic``) a search must stop, or ``None`` for never."""

    at: float | None = None
    seconds: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        if seconds is None:
            return cls()
        return cls(time.monotonic() + seconds, seconds)

    @property
    def passed(self) -> bool:
        return self.at is not None and time.monotonic() > self.at

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` once the deadline has passed."""
        if self.passed:
            raise BudgetExceeded(f"the search stopped at its time budget of {self.seconds} s")


NO_DEADLINE = Deadline()
