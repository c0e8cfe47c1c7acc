"""Mutation testing for rule authors: do the pack's cases and invariants notice a wrong rule?

:mod:`.operators` makes mutants of a loaded pack's rules; :mod:`.runner` runs them
against the pack's tests and reports the mutation score. See docs/testing.md.
"""

from eligibility.testing.mutants.operators import OPERATORS, Mutant, generate
from eligibility.testing.mutants.runner import (
    MutantResult,
    MutationReport,
    Tally,
    run_mutants,
)

__all__ = [
    "OPERATORS",
    "Mutant",
    "MutantResult",
    "MutationReport",
    "Tally",
    "generate",
    "run_mutants",
]
