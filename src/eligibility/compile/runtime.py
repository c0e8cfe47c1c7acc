"""What compiled rules run against: the UNKNOWN value and the evaluation context.

``UNKNOWN`` is the third truth value (Kleene): a fact that is missing, or anything
computed from one. :class:`Ctx` holds one evaluation's state — the validated facts
(flattened to ``"group.field"`` keys), the evaluation date, the parameter values
in force, caches of criteria and ``let`` values (which also hold, under keys no rule
can name, the values the calculation recorder reads: see
:func:`eligibility.compile.closures.keeping`), the current measure's amount (rounded,
and as computed), and the list of missing facts read so far. A Ctx lives for one
evaluation and is never shared between threads.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final


class _Unknown:
    """The unknown value; a singleton, compared with ``is``."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; compare with `is UNKNOWN`")

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


class Ctx:
    """The state of one evaluation (see module docstring)."""

    __slots__ = (
        "amount",
        "as_of",
        "crit",
        "exact",
        "facts",
        "lets",
        "member",
        "member_index",
        "members",
        "missing",
        "params",
    )

    def __init__(
        self,
        facts: dict[str, Any],
        members: list[dict[str, Any]] | None,
        as_of: date,
        params: dict[str, Any],
    ) -> None:
        self.facts = facts
        self.members = members
        self.as_of = as_of
        self.params = params
        self.crit: dict[str, tuple[Any, tuple[str, ...]]] = {}
        self.lets: dict[str, tuple[Any, tuple[str, ...]]] = {}
        self.missing: list[str] = []
        self.member: dict[str, Any] = {}
        self.member_index = -1
        self.amount: tuple[Any, tuple[str, ...]] = (UNKNOWN, ())
        #: the current measure's amount before rounding (for the calculation record)
        self.exact: Any = UNKNOWN
