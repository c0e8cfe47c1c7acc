"""Fixtures for the rule-testing tools: copies of the mini pack, with invariants."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent
MINI = HERE.parent / "packs" / "mini"
MINI_INVARIANTS = HERE / "data" / "mini-invariants.yaml"


@pytest.fixture
def mini_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy tests/packs/mini (plus its test invariants) and apply text replacements."""

    def make(edits: dict[str, list[tuple[str, str]]] | None = None,
             invariants: str | None = None, folder: Path | None = None) -> Path:
        root = folder or tmp_path / "mini"
        shutil.copytree(MINI, root)
        target = root / "invariants.yaml"
        if invariants is None:
            shutil.copy(MINI_INVARIANTS, target)
        else:
            target.write_text(invariants, encoding="utf-8")
        for file, replacements in (edits or {}).items():
            path = root / file
            text = path.read_text(encoding="utf-8")
            for old, new in replacements:
                assert old in text, f"{old!r} not in {file}"
                text = text.replace(old, new)
            path.write_text(text, encoding="utf-8")
        return root

    return make
