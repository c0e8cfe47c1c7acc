"""Packs by name: $ELIGIBILITY_RULES first, then the packs bundled in the package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eligibility.pack.bundled import available_packs, bundled_root, find_pack

ROOT = Path(__file__).resolve().parents[2]


def test_the_bundled_pack_is_the_source_trees_rules_no() -> None:
    root = bundled_root()
    assert root is not None and (root / "no" / "pack.yaml").is_file()
    # in the source tree the bundled folder links to rules/no: one source of truth
    assert find_pack("no") == (ROOT / "rules" / "no").resolve()


def test_the_env_folder_comes_first_and_shadows(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tests" / "packs" / "mini", tmp_path / "no")
    (tmp_path / "not-a-pack").mkdir()
    monkeypatch.setenv("ELIGIBILITY_RULES", str(tmp_path))
    found = [(p.name, p.origin) for p in available_packs()]
    assert found == [("no", "ELIGIBILITY_RULES"), ("no", "bundled")]
    assert find_pack("no") == (tmp_path / "no").resolve()


@pytest.mark.parametrize("name", ["", ".", "..", "../rules/no", "no/", "nope"])
def test_names_that_are_not_packs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ELIGIBILITY_RULES", raising=False)
    assert find_pack(name) is None
