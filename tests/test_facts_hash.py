"""The facts hash: the fast canonical bytes are exactly the canonical JSON the hash is
defined over (sorted keys, normalised whole decimals, ISO dates, UTF-8)."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility import load_pack
from eligibility.facts import FactValidator, canonical_bytes, canonical_json
from eligibility.testing.strategies import households

ROOT = Path(__file__).resolve().parents[1]
PACK = load_pack(ROOT / "rules" / "no")
VALIDATOR = FactValidator(PACK.schema)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=8),
    st.dates(), st.decimals(allow_nan=False, allow_infinity=False, places=3))
documents = st.dictionaries(st.text(max_size=5), st.one_of(
    scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=3), scalars,
                                                            max_size=3)), max_size=5)


@settings(max_examples=150, deadline=None, database=None)
@given(documents)
def test_canonical_bytes_are_the_canonical_json(doc: dict[str, Any]) -> None:
    assert canonical_bytes(doc) == canonical_json(doc).encode()


@settings(max_examples=60, deadline=None, database=None)
@given(households(PACK))
def test_validated_facts_hash_the_canonical_json(facts: dict[str, Any]) -> None:
    valid = VALIDATOR.validate(facts)
    assert valid.sha256 == hashlib.sha256(canonical_json(valid.data).encode()).hexdigest()


def test_whole_decimals_are_normalised() -> None:
    doc = {"b": Decimal("420000"), "a": Decimal("1.50"), "d": date(2025, 6, 1), "s": "æøå"}
    assert canonical_bytes(doc) == '{"a":"1.50","b":"4.2E+5","d":"2025-06-01","s":"æøå"}' \
        .encode()
