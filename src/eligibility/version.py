"""The engine's version, recorded in every Decision's provenance."""

__version__ = "0.1.0"
