"""The optional fast encoder: the bytes of the standard library, or None to fall back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from eligibility import fastjson
from eligibility.facts import canonical_bytes, canonical_json


def _text(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    raise TypeError(type(obj).__name__)


@pytest.mark.skipif(not fastjson.AVAILABLE, reason="orjson is in the test extra")
def test_sorted_keys_give_the_canonical_bytes() -> None:
    value = {"b": {"z": 1, "a": [True, None, "ø"]}, "a": Decimal("12.50")}
    assert fastjson.dumps(value, _text, sort_keys=True) == canonical_json(value).encode()
    assert fastjson.dumps(value, _text) == b'{"b":{"z":1,"a":[true,null,"\xc3\xb8"]},"a":"12.50"}'


def test_what_orjson_refuses_falls_back() -> None:
    assert fastjson.dumps({"n": 2**70}, _text) is None
    assert fastjson.dumps({"x": object()}, _text) is None
    assert canonical_bytes({"n": 2**70}) == b'{"n":1180591620717411303424}'
