"""The HTTP service: evaluate households over JSON for case-handling systems.

:func:`create_app` (in :mod:`eligibility.api.app`) builds the FastAPI app from
rule packs and :class:`Settings`; ``eligibility serve`` runs it under uvicorn.
The routes live under ``/v1`` and are documented in ``docs/api.md`` and at
``/openapi.json``. Requires the ``api`` extra (FastAPI, uvicorn).
"""

from eligibility.api.app import create_app
from eligibility.api.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "create_app"]
