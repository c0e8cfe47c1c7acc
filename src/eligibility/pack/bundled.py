"""Where rule packs are found by name: ``$ELIGIBILITY_RULES`` and the bundled packs.

A pack name such as ``"no"`` (instead of a folder) is looked up first in the
folder named by the ``ELIGIBILITY_RULES`` environment variable, then among the
packs shipped inside the package (``eligibility/packs/<name>``, read through
:mod:`importlib.resources`, so it works from an installed wheel as well as
from the source checkout, where ``src/eligibility/packs/no`` is a symlink to
the single source of the pack, ``rules/no``). :func:`available_packs` lists
both places for ``eligibility packs``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

#: The environment variable naming a folder of pack folders.
RULES_ENV = "ELIGIBILITY_RULES"


@dataclass(frozen=True)
class PackLocation:
    """A pack folder found by name, and where it was found (``bundled`` or the env var)."""

    name: str
    path: Path
    origin: str


def bundled_root() -> Path | None:
    """The folder holding the packs shipped in the package (None if not on a file system)."""
    root = files("eligibility") / "packs"
    if isinstance(root, Path) and root.is_dir():
        return root
    return None


def _packs_in(folder: Path, origin: str) -> list[PackLocation]:
    if not folder.is_dir():
        return []
    return [PackLocation(child.name, child.resolve(), origin)
            for child in sorted(folder.iterdir())
            if (child / "pack.yaml").is_file()]


def available_packs(environ: dict[str, str] | None = None) -> list[PackLocation]:
    """Every pack findable by name, in lookup order (the env var's folder first)."""
    env = os.environ if environ is None else environ
    found: list[PackLocation] = []
    if env.get(RULES_ENV):
        found += _packs_in(Path(env[RULES_ENV]), RULES_ENV)
    root = bundled_root()
    if root is not None:
        found += _packs_in(root, "bundled")
    return found


def find_pack(name: str) -> Path | None:
    """The folder of the pack called ``name`` (first match in lookup order), or None."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        return None
    for location in available_packs():
        if location.name == name:
            return location.path
    return None


__all__ = ["RULES_ENV", "PackLocation", "available_packs", "bundled_root", "find_pack"]
