"""Settings of the HTTP service, read from environment variables.

:class:`Settings` is an immutable value built once (``Settings.from_env()``) and
handed to :func:`~eligibility.api.app.create_app`; nothing reads the
environment after start-up. Every variable is documented in ``docs/api.md``:
``ELIGIBILITY_API_TOKEN`` (optional bearer token), ``ELIGIBILITY_CORS_ORIGINS``
(comma-separated origins, ``*`` for any), ``ELIGIBILITY_MAX_BODY_BYTES``,
``ELIGIBILITY_MAX_BATCH``, ``ELIGIBILITY_SEARCH_BUDGET`` (seconds a why-not may
search before it answers with a partial result) and ``ELIGIBILITY_PACKS``
(comma-separated pack folders or bundled pack names served when ``--pack`` is not
given). A bad value raises
:class:`SettingsError` with a one-line message naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from eligibility.errors import EligibilityError
from eligibility.limits import HTTP_MAX_BODY_BYTES, SEARCH_BUDGET_SECONDS

TOKEN_ENV = "ELIGIBILITY_API_TOKEN"
CORS_ENV = "ELIGIBILITY_CORS_ORIGINS"
MAX_BODY_ENV = "ELIGIBILITY_MAX_BODY_BYTES"
MAX_BATCH_ENV = "ELIGIBILITY_MAX_BATCH"
PACKS_ENV = "ELIGIBILITY_PACKS"
BUDGET_ENV = "ELIGIBILITY_SEARCH_BUDGET"

DEFAULT_MAX_BODY_BYTES = HTTP_MAX_BODY_BYTES
DEFAULT_MAX_BATCH = 100
DEFAULT_PACKS = ("no",)


class SettingsError(EligibilityError):
    """An environment variable of the service has a value it cannot use."""


@dataclass(frozen=True)
class Settings:
    """How the service behaves (see module docstring)."""

    api_token: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    packs: tuple[str, ...] = DEFAULT_PACKS
    search_budget_seconds: float = SEARCH_BUDGET_SECONDS

    def __post_init__(self) -> None:
        if not 0 < self.search_budget_seconds <= 60:
            raise SettingsError(f"{BUDGET_ENV} must be between 0 and 60 seconds")
        if self.max_body_bytes < 1:
            raise SettingsError(f"{MAX_BODY_ENV} must be a positive number of bytes")
        if self.max_batch < 1:
            raise SettingsError(f"{MAX_BATCH_ENV} must be a positive number of items")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``environ`` (default: ``os.environ``); unset means the default."""
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_ENV, "").strip() or None
        origins = tuple(o.strip() for o in env.get(CORS_ENV, "").split(",") if o.strip())
        packs = tuple(p.strip() for p in env.get(PACKS_ENV, "").split(",") if p.strip())
        return cls(
            api_token=token,
            cors_origins=origins,
            max_body_bytes=_positive_int(env, MAX_BODY_ENV, DEFAULT_MAX_BODY_BYTES),
            max_batch=_positive_int(env, MAX_BATCH_ENV, DEFAULT_MAX_BATCH),
            packs=packs or DEFAULT_PACKS,
            search_budget_seconds=_seconds(env, BUDGET_ENV, SEARCH_BUDGET_SECONDS),
        )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw[:40]!r}") from None
    if not 0 < value <= 60:
        raise SettingsError(f"{name} must be between 0 and 60 seconds, got {raw[:40]!r}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value
