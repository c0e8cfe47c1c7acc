"""The hot path of single evaluations answers exactly as the FastAPI route does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility import RulePack
from eligibility.api import Settings, create_app
from eligibility.api import hot as hot_module
from eligibility.api.hot import HotEvaluate

from .conftest import MINI_CASE

EVAL = "/v1/packs/mini/evaluate"
JSON = {"content-type": "application/json"}


def _body(doc: Any) -> bytes:
    import json

    return json.dumps(doc).encode()


# (name, path with query, extra headers, body bytes, taken by the hot path)
REQUESTS: list[tuple[str, str, dict[str, str], bytes, bool]] = [
    ("full", EVAL, {}, _body({"facts": MINI_CASE, "as_of": "2023-06-01"}), True),
    ("summary", EVAL + "?detail=summary", {},
     _body({"facts": MINI_CASE, "as_of": "2023-06-01", "lang": "en"}), True),
    ("no facts", EVAL, {}, _body({"facts": {}, "as_of": "2023-06-01"}), True),
    ("date outside the pack", EVAL, {}, _body({"facts": MINI_CASE, "as_of": "2019-12-31"}),
     True),
    ("invalid facts", EVAL, {}, _body({"facts": {"members": [{"age": 200}], "pets": 1},
                                       "as_of": "2023-06-01"}), True),
    ("wrong pin in the header", EVAL, {"X-Eligibility-Pack-Hash": "0" * 64},
     _body({"facts": MINI_CASE, "as_of": "2023-06-01"}), True),
    ("malformed pin in the header", EVAL, {"X-Eligibility-Pack-Hash": "v1"},
     _body({"facts": MINI_CASE, "as_of": "2023-06-01"}), True),
    ("wrong pin in the body", EVAL, {},
     _body({"facts": MINI_CASE, "as_of": "2023-06-01", "pack_hash": "ab" * 32}), True),
    ("bad detail", EVAL + "?detail=everything", {}, _body({"facts": MINI_CASE}), False),
    ("unknown field", EVAL, {}, _body({"facts": {}, "surprise": 1}), False),
    ("bad date", EVAL, {}, _body({"facts": {}, "as_of": "2023-02-30"}), False),
    ("not an object", EVAL, {}, b"[1, 2]", False),
    ("malformed JSON", EVAL, {}, b'{"facts": {', False),
    ("UTF-16", EVAL, {}, '{"facts": {}}'.encode("utf-16"), False),
    ("a byte-order mark", EVAL, {}, b"\xef\xbb\xbf" + _body({"facts": {}}), False),
    ("nested too deeply", EVAL, {}, b'{"facts": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
     False),
    ("nested 600 levels", EVAL, {}, b'{"facts": {"a": ' + b"[" * 600 + b"]" * 600 + b"}}",
     True),
    ("nested 990 levels", EVAL, {}, b'{"facts": {"a": ' + b"[" * 990 + b"]" * 990 + b"}}",
     False),
    ("nested 1010 levels", EVAL, {}, b'{"facts": {"a": ' + b"{\"b\": " * 1010 + b"1"
     + b"}" * 1010 + b"}}", False),
    ("empty body", EVAL, {}, b"", False),
    ("NaN", EVAL, {}, b'{"facts": {"members": [{"age": NaN}]}}', False),
    ("Infinity", EVAL, {}, b'{"facts": {"members": [{"age": 40, "income_month": -Infinity}]}}',
     False),
    ("an overflowing number", EVAL, {},
     b'{"facts": {"members": [{"age": 40, "income_month": 1e400}]}}', False),
    ("a lone surrogate", EVAL, {}, b'{"facts": {"household": {"kommune": "\\ud800"}}}', False),
    ("a big integer", EVAL, {},
     b'{"facts": {"members": [{"age": 40, "income_month": 123456789012345678901234}]}}',
     False),
    ("19 digits below -2**63", EVAL, {},
     b'{"facts": {"members": [{"age": 40, "income_month": -9223372036854775809}]}}', False),
    ("18 digits", EVAL, {},
     b'{"facts": {"members": [{"age": 40, "income_month": 123456789012345678}]}}', True),
    ("a long exact decimal", EVAL, {},
     b'{"facts": {"members": [{"age": 40, "income_month": 0.1000000000000000055511}]}}',
     False),
    ("a duplicate key", EVAL, {},
     b'{"facts": {"members": [{"age": 40, "age": 41}]}, "as_of": "2023-06-01"}', True),
    ("escapes and non-ASCII", EVAL, {},
     '{"facts": {"household": {"kommune": "Tr\\u00f8ndelag \\n\u00e6\u00f8\u00e5"}}}'.encode(),
     True),
    ("a period", EVAL, {}, _body({"facts": MINI_CASE, "from": "2023-01-01",
                                  "to": "2023-12-31"}), False),
    ("unknown pack", "/v1/packs/nope/evaluate", {}, _body({"facts": {}}), False),
    ("text body", EVAL, {"content-type": "text/plain"}, _body({"facts": {}}), False),
]


@pytest.fixture
def clients(mini_pack: RulePack) -> Iterator[tuple[TestClient, TestClient]]:
    hot = create_app([mini_pack], Settings())
    plain = create_app([mini_pack], Settings())
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not HotEvaluate]
    with TestClient(hot) as a, TestClient(plain) as b:
        yield a, b


@pytest.fixture
def hot_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = HotEvaluate._evaluate

    async def spy(self: HotEvaluate, scope: Any, *args: Any) -> None:
        calls.append(scope["path"])
        await original(self, scope, *args)

    monkeypatch.setattr(HotEvaluate, "_evaluate", spy)
    return calls


@pytest.mark.parametrize("inline", [True, False], ids=["on the loop", "in a thread"])
@pytest.mark.parametrize("name, url, headers, body, taken", REQUESTS,
                         ids=[r[0] for r in REQUESTS])
def test_same_answer_as_the_route(clients: tuple[TestClient, TestClient],
                                  hot_calls: list[str], monkeypatch: pytest.MonkeyPatch,
                                  name: str, url: str, headers: dict[str, str], body: bytes,
                                  taken: bool, inline: bool) -> None:
    if not inline:
        monkeypatch.setattr(hot_module, "INLINE_BODY_BYTES", 0)
    hot, plain = clients
    sent = {**JSON, "X-Request-Id": "same-id", **headers}
    a = hot.post(url, content=body, headers=sent)
    b = plain.post(url, content=body, headers=sent)
    assert (a.status_code, a.headers["content-type"]) == (b.status_code,
                                                          b.headers["content-type"]), name
    assert a.content == b.content, name
    named = {k: v for k, v in b.headers.items() if k.lower().startswith("x-")}
    assert {k: a.headers.get(k) for k in named} == named
    assert hot_calls == ([url.split("?")[0]] if taken else [])


def test_the_hot_path_is_logged_under_the_route(
        clients: tuple[TestClient, TestClient], hot_calls: list[str],
        log_lines: Callable[[], list[str]]) -> None:
    import json

    hot, _ = clients
    response = hot.post(EVAL, json={"facts": MINI_CASE, "as_of": "2023-06-01"})
    assert response.status_code == 200 and hot_calls == [EVAL]
    line = json.loads(log_lines()[-1])
    assert line["route"] == "/v1/packs/{pack_id}/evaluate" and line["pack"] == "mini"
    assert line["facts_sha256"] == response.json()["provenance"]["facts_sha256"]


def _json_values() -> st.SearchStrategy[Any]:
    scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                        max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=8), _json_values(), max_size=5),
       ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_the_hot_parse_reads_what_json_loads_reads(doc: dict[str, Any], ascii_only: bool,
                                                   indent: int | None) -> None:
    import json

    body = json.dumps(doc, ensure_ascii=ascii_only, indent=indent).encode()
    parsed = hot_module.parse_object(body)
    expected = json.loads(body.decode("utf-8"))
    if parsed is not None:  # else the route reads it (json.loads)
        assert repr(parsed) == repr(expected)  # repr: int and float kept apart, -0.0 too


def test_the_hot_parse_leaves_long_digit_runs_to_the_route() -> None:
    assert hot_module.parse_object(b'{"a": 1234567890123456789}') is None
    assert hot_module.parse_object(b'{"a": "1234567890123456789"}') is None  # any 19 digits
    assert hot_module.parse_object(b'{"a": 123456789012345678}') == {"a": 123456789012345678}
    assert hot_module.parse_object(b'[1]') is None


@pytest.mark.parametrize("detail", ["full", "summary"])
def test_the_bundled_pack_answers_with_engine_evaluate_json(
        hot_calls: list[str], detail: str) -> None:
    import json
    from pathlib import Path

    from eligibility import Engine, load_pack
    from eligibility.api.examples import to_json
    from eligibility.pack.yamlio import load_yaml_text, plain

    pack = load_pack("no")
    engine = Engine(pack)
    hot = create_app([pack], Settings())
    plain_app = create_app([pack], Settings())
    plain_app.user_middleware = [m for m in plain_app.user_middleware
                                 if m.cls is not HotEvaluate]
    root = Path(__file__).resolve().parents[2] / "fixtures"
    with TestClient(hot) as a, TestClient(plain_app) as b:
        for path in sorted(root.glob("*.yaml"))[:3]:
            facts = to_json(plain(load_yaml_text(path.read_text(encoding="utf-8"), path.name)))
            body = {"facts": facts, "as_of": "2026-07-01"}
            expected = engine.evaluate_json(facts, as_of="2026-07-01", detail=detail)
            for client in (a, b, a):  # the hot path twice: its builder's kept JSON too
                response = client.post(f"/v1/packs/no/evaluate?detail={detail}", json=body)
                assert response.status_code == 200, path.name
                assert response.content == expected, path.name
            assert json.loads(expected)["provenance"]["pack_id"] == "no"
    assert len(hot_calls) == 6
