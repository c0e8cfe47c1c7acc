"""The polars backend: the pack's expression AST compiled to polars expressions.

:class:`~eligibility.compile.polars.plan.PolarsPlan` is the entry point; the
node handlers live in :mod:`eligibility.compile.polars.compiler`. Needs the
``batch`` extra (polars).
"""

from eligibility.compile.polars.compiler import Unsupported
from eligibility.compile.polars.plan import PolarsPlan, fact_dtypes

__all__ = ["PolarsPlan", "Unsupported", "fact_dtypes"]
