"""The bundled Norwegian pack and an engine on it, shared by the tests of rules/no."""

from __future__ import annotations

from pathlib import Path

import pytest

from eligibility import Engine, RulePack, load_pack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack(ROOT / "rules" / "no")


@pytest.fixture(scope="module")
def engine(pack: RulePack) -> Engine:
    return Engine(pack)
