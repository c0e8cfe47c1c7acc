"""The packs a running service holds, each with its one Engine.

:class:`PackRegistry` is built once when the app is created: it compiles one
:class:`~eligibility.engine.Engine` per pack (engines hold no per-call state, so
threads share them), refuses two packs with the same id, looks a pack up by id
(unknown → a 404 problem) and checks a pinned content hash (another hash → a 409
problem). It is read-only after construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from eligibility.api.problems import ProblemError
from eligibility.engine import Engine
from eligibility.pack.model import RulePack

HASH_PATTERN = r"^(sha256:)?[0-9a-f]{64}$"
_HASH_RE = re.compile(HASH_PATTERN)


@dataclass(frozen=True)
class Served:
    """One served pack: the pack and its compiled engine."""

    pack: RulePack
    engine: Engine

    @property
    def ident(self) -> tuple[str, str, str]:
        return (self.pack.meta.id, self.pack.meta.version, self.pack.content_hash)

    @cached_property
    def facts_schema(self) -> dict[str, Any]:
        """The JSON Schema (2020-12) of this pack's facts, naming the pack."""
        meta = self.pack.meta
        schema = _plain_numbers(self.engine.validator.model.model_json_schema())
        schema["title"] = f"Facts of pack {meta.id} {meta.version}"
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:eligibility:pack:{meta.id}:{self.pack.content_hash}:facts",
            **schema,
            "x-eligibility-pack": {"pack_id": meta.id, "pack_version": meta.version,
                                   "content_hash": self.pack.content_hash},
        }

    def headers(self) -> dict[str, str]:
        """The response headers that name exactly which rules answered."""
        return {
            "X-Eligibility-Pack": self.pack.meta.id,
            "X-Eligibility-Pack-Version": self.pack.meta.version,
            "X-Eligibility-Pack-Hash": self.pack.content_hash,
        }


class PackRegistry:
    """Packs by id (see module docstring)."""

    def __init__(self, packs: Iterable[RulePack]) -> None:
        self._by_id: dict[str, Served] = {}
        for pack in packs:
            if pack.meta.id in self._by_id:
                raise ValueError(f"two packs have the id {pack.meta.id!r}; ids must be unique")
            self._by_id[pack.meta.id] = Served(pack, Engine(pack))

    def all(self) -> list[Served]:
        return list(self._by_id.values())

    def ids(self) -> list[str]:
        return list(self._by_id)

    def get(self, pack_id: str) -> Served:
        served = self._by_id.get(pack_id)
        if served is None:
            known = ", ".join(self._by_id) or "none"
            raise ProblemError("unknown-pack",
                               f"this server holds no pack {pack_id!r} (it holds: {known})")
        return served


def check_pin(served: Served, *pins: str | None) -> None:
    """Raise a 409 problem unless every given pin equals the served pack's hash."""
    for pin in pins:
        if pin is None:
            continue
        value = pin.strip().lower()
        if not _HASH_RE.match(value):
            raise ProblemError(
                "invalid-request",
                "a pinned pack hash must be 64 hexadecimal digits (optionally after "
                f"'sha256:'), got {pin[:80]!r}")
        value = value.removeprefix("sha256:")
        if value != served.pack.content_hash:
            raise ProblemError(
                "pack-hash-conflict",
                f"the request pins pack {served.pack.meta.id!r} at content hash {value}, "
                f"but this server holds version {served.pack.meta.version} with content hash "
                f"{served.pack.content_hash}",
            )


def _plain_numbers(value: Any) -> Any:
    """Decimals (schema bounds) as JSON numbers."""
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
