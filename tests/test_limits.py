"""docs/limits.md lists every limit of eligibility.limits with its value."""

from __future__ import annotations

import re

import eligibility.limits as limits
from tests.conftest import ROOT


def test_the_docs_list_every_limit_with_its_value() -> None:
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", text, re.MULTILINE))
    assert set(rows) == set(limits.__all__)
    for name in limits.__all__:
        assert rows[name].strip() == str(getattr(limits, name)), name
