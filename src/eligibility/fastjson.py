"""The optional fast JSON encoder the engine uses where it is installed (orjson).

orjson comes with the ``api`` and ``test`` extras; the engine does not need it. Both
places that serialise on every call — the canonical facts for the provenance hash
(:func:`eligibility.facts.canonical_bytes`) and a Decision's JSON
(:func:`eligibility.decision_build.decision_bytes`) — call :func:`dumps`, which gives
``None`` when orjson is absent or refuses the value (an integer beyond 64 bits), and
then fall back to the standard library or pydantic-core for the same bytes.
:func:`fragment` wraps JSON bytes made before so that :func:`dumps` writes them as they
are (orjson's ``Fragment``): the decision builder keeps the JSON of the parts Decisions
share, and writes each of them once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:  # optional: the api and test extras install it
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only without the extra
    _orjson = None  # type: ignore[assignment]

#: whether orjson is installed
AVAILABLE = _orjson is not None


def fragment(data: bytes) -> Any:
    """``data`` (JSON made by :func:`dumps`) for :func:`dumps` to write as it is; only
    when :data:`AVAILABLE`."""
    assert _orjson is not None
    return _orjson.Fragment(data)


def dumps(value: Any, default: Callable[[Any], Any], sort_keys: bool = False) -> bytes | None:
    """``value`` as compact JSON bytes with orjson (``default`` for what it does not know;
    ``sort_keys`` sorts every object's keys), or ``None`` when orjson is not installed or
    refuses ``value``."""
    if _orjson is None:
        return None
    try:
        return _orjson.dumps(value, default=default,
                             option=_orjson.OPT_SORT_KEYS if sort_keys else None)
    except (_orjson.JSONEncodeError, TypeError):
        return None
