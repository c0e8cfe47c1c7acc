"""The rete backend: the same pack run by durable_rules' forward chaining (optional extra).

:mod:`.network` compiles a loaded pack into truth nodes and durable_rules rules (no
durable_rules import); :mod:`.host` runs them in durable_rules behind one lock;
:mod:`.backend` turns a household into facts, runs one session and returns the same
:class:`~eligibility.compile.outcomes.HouseholdOutcomes` the reference evaluator gives (the
shared DecisionBuilder makes the Decision), and keeps sessions open for incremental
re-evaluation. Install with ``pip install 'eligibility[rete]'``
(CPython < 3.13: durable-rules 2.0.28 does not import on 3.13).
"""

from __future__ import annotations

import sys

from eligibility.errors import EligibilityError


class BackendUnavailable(EligibilityError):
    """The rete backend was asked for but cannot run here."""


def require_durable(version: tuple[int, ...] | None = None) -> None:
    """Raise :class:`BackendUnavailable` unless durable_rules can be imported (``version``:
    the Python version to judge, default the running one)."""
    major, minor = (version or sys.version_info)[:2]
    if (major, minor) >= (3, 13):
        raise BackendUnavailable(
            "the rete backend needs durable-rules 2.0.28, which does not import on Python "
            f"{major}.{minor} (only < 3.13); use the reference backend")
    try:
        import durable.engine  # noqa: F401
    except ImportError:
        raise BackendUnavailable(
            "the rete backend needs the optional extra: pip install 'eligibility[rete]' "
            "(durable-rules==2.0.28)") from None
