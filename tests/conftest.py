"""Shared fixtures: the stable mini pack, an engine on it, an engine on rules/no and its
fixture households, and a pack copier for mutations."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from eligibility import Engine, RulePack, load_pack
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "packs" / "mini"


@pytest.fixture(scope="session")
def mini_pack() -> RulePack:
    return load_pack(MINI)


@pytest.fixture(scope="session")
def engine(mini_pack: RulePack) -> Engine:
    return Engine(mini_pack)


@pytest.fixture(scope="session")
def no_engine() -> Engine:
    """An engine on the bundled rules/no pack."""
    return Engine(load_pack(ROOT / "rules" / "no"))


def fixtures() -> list[dict[str, object]]:
    """The households of ``fixtures/*.yaml``, in file-name order."""
    return [plain(load_yaml_text(p.read_text(encoding="utf-8"), p.name))
            for p in sorted((ROOT / "fixtures").glob("*.yaml"))]


@pytest.fixture
def pack_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy the mini pack to a temporary folder and apply text edits to its files.

    ``pack_copy({"measures/bostotte.yaml": [("old", "new")]})`` replaces text;
    ``pack_copy(write={"criteria/x.yaml": "..."})`` writes new files.
    """

    def make(edits: dict[str, list[tuple[str, str]]] | None = None,
             write: dict[str, str] | None = None) -> Path:
        target = tmp_path / "pack"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(MINI, target)
        for rel, replacements in (edits or {}).items():
            path = target / rel
            text = path.read_text(encoding="utf-8")
            for old, new in replacements:
                assert old in text, f"{old!r} not in {rel}"
                text = text.replace(old, new, 1)
            path.write_text(text, encoding="utf-8")
        for rel, text in (write or {}).items():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_text(text, encoding="utf-8")
        return target

    return make


def household(**groups: object) -> dict[str, object]:
    """A complete single-adult household for the mini pack, with overrides per group."""
    facts: dict[str, object] = {
        "household": {"kommunegruppe": 4, "registered": True},
        "members": [{"age": 40, "income_month": 10000, "disability": False}],
        "housing": {"tenure": "leie", "cost_month": 6000},
        "economy": {"bank_loan_refused": False, "years_problem": 0, "savings_used": False},
        "situation": {"homeless": False, "forced_sale": False},
    }
    facts.update(groups)
    return facts
