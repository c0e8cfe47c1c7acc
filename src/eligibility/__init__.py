"""eligibility: a rules-as-code engine for Norwegian social housing policy.

The package turns a rule pack (the law as YAML data, see ``docs/rule-authoring.md``)
and one household's facts into a :class:`~eligibility.decision.Decision`: every
measure with its status, amount, reasons, legal references and missing facts.
The public entry points are :func:`load_pack` and :class:`Engine`.
"""

from eligibility.decision import Decision, MeasureResult, Reason
from eligibility.engine import Engine
from eligibility.errors import AsOfError, EligibilityError, FactsError, PackError
from eligibility.pack.loader import load_pack
from eligibility.pack.model import RulePack
from eligibility.version import __version__

__all__ = [
    "AsOfError",
    "Decision",
    "EligibilityError",
    "Engine",
    "FactsError",
    "MeasureResult",
    "PackError",
    "Reason",
    "RulePack",
    "__version__",
    "load_pack",
]
