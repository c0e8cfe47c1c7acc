"""Tools for rule authors: run a pack's cases (and, later, properties and coverage)."""
