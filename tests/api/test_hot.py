"""The hot path of single evaluations answers exactly as the FastAPI route does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

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
    ("empty body", EVAL, {}, b"", False),
    ("NaN", EVAL, {}, b'{"facts": {"members": [{"age": NaN}]}}', True),
    ("a big integer", EVAL, {},
     b'{"facts": {"members": [{"age": 40, "income_month": 123456789012345678901234}]}}',
     False),
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
