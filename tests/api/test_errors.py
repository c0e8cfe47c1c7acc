"""Every error the service gives: status, problem+json body, field paths, no traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import InvalidOperation
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eligibility import Engine, RulePack

from .conftest import MINI_CASE

EVAL = "/v1/packs/mini/evaluate"
BATCH = "/v1/packs/mini/evaluate/batch"
PROBLEM = "application/problem+json"


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == f"urn:eligibility:problem:{slug}"
    assert body["title"] and body["title_nb"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


def paths(body: dict[str, Any]) -> list[str]:
    return [e["path"] for e in body["errors"]]


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(EVAL, content=b'{"facts": {', headers={"content-type":
                                                                  "application/json"})
    problem(response, 400, "malformed-json")


@pytest.mark.parametrize("route", [EVAL, BATCH, "/v1/packs/mini/why-not"])
@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_a_body_nested_too_deeply_to_parse_names_the_depth_limit(
        client: TestClient, route: str, depth: int) -> None:
    # valid JSON, but far deeper than the parser reads: a problem, not the framework's text
    body = b'{"facts": ' + b"[" * depth + b"]" * depth + b"}"
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    found = problem(response, 400, "body-too-deep")
    assert "at most 8 levels (MAX_FACTS_DEPTH)" in found["detail"]
    assert "error parsing the body" not in response.text


def test_a_deep_body_the_parser_reads_is_refused_by_the_facts_limit(
        client: TestClient) -> None:
    body = b'{"facts": {"members": ' + b'{"a": ' * 300 + b"1" + b"}" * 300 + b"}}"
    found = problem(client.post(EVAL, content=body, headers={"content-type":
                                                              "application/json"}),
                    422, "invalid-facts")
    assert found["errors"]


def test_a_body_that_is_not_utf8_is_malformed_json(client: TestClient) -> None:
    response = client.post(EVAL, content=b'{"facts": "\xff\xfe"}',
                           headers={"content-type": "application/json"})
    found = problem(response, 400, "malformed-json")
    assert "not UTF-8" in found["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml", None])
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(EVAL, content=b'{"facts": {}}', headers=headers)
    problem(response, 415, "unsupported-media-type")


def test_json_variants_are_accepted(client: TestClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.case+json"):
        response = client.post(EVAL, content=b'{"facts": {}}',
                               headers={"content-type": content_type})
        assert response.status_code == 200, content_type


def test_body_over_the_limit_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=2000)
    big = {"facts": MINI_CASE, "padding": "x" * 3000}
    problem(client.post(EVAL, json=big), 413, "body-too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the stream itself is counted
        yield b'{"facts": {}, "x": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    response = client.post(EVAL, content=chunks(), headers={"content-type": "application/json"})
    problem(response, 413, "body-too-large")
    assert client.post(EVAL, json={"facts": MINI_CASE}).status_code == 200


def test_batch_over_the_limit_is_422(make_client: Callable[..., TestClient]) -> None:
    # the OpenAPI document declares maxItems: a longer list is an invalid request
    client = make_client(max_batch=3)
    body = problem(client.post(BATCH, json={"items": [{"facts": {}}] * 4}), 422,
                   "invalid-request")
    assert paths(body) == ["items"]
    assert client.post(BATCH, json={"items": [{"facts": {}}] * 3}).status_code == 200


@pytest.mark.parametrize("method, url", [
    ("get", "/v1/packs/nope"), ("get", "/v1/packs/nope/schema"),
    ("get", "/v1/packs/nope/parameters"), ("post", "/v1/packs/nope/evaluate"),
    ("post", "/v1/packs/nope/evaluate/batch")])
def test_unknown_pack_is_404(client: TestClient, method: str, url: str) -> None:
    kwargs: dict[str, Any] = {"json": {"facts": {}, "items": []}} if method == "post" else {}
    if method == "post" and url.endswith("/evaluate"):
        kwargs = {"json": {"facts": {}}}
    elif method == "post":
        kwargs = {"json": {"items": []}}
    body = problem(client.request(method, url, **kwargs), 404, "unknown-pack")
    assert "'nope'" in body["detail"] and "mini" in body["detail"]
    assert "pack_id" not in body


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    problem(client.get("/v2/packs"), 404, "not-found")
    problem(client.get(EVAL), 405, "method-not-allowed")


@pytest.mark.parametrize("as_of", ["2023-13-01", "2023-02-30", "01.06.2023", "", 20230601,
                                   "2023-06-01T00:00:00"])
def test_invalid_date_in_body_is_422(client: TestClient, as_of: Any,
                                     mini_pack: RulePack) -> None:
    body = problem(client.post(EVAL, json={"facts": MINI_CASE, "as_of": as_of}), 422,
                   "invalid-request")
    assert paths(body) == ["as_of"]
    assert body["content_hash"] == mini_pack.content_hash


@pytest.mark.parametrize("as_of", ["2023-13-01", "tomorrow"])
def test_invalid_date_in_query_is_422(client: TestClient, as_of: str) -> None:
    response = client.get("/v1/packs/mini/parameters", params={"as_of": as_of})
    assert paths(problem(response, 422, "invalid-request")) == ["query.as_of"]


def test_date_outside_the_pack_is_422(client: TestClient) -> None:
    body = problem(client.post(EVAL, json={"facts": MINI_CASE, "as_of": "2019-12-31"}), 422,
                   "as-of-out-of-range")
    assert paths(body) == ["as_of"]
    response = client.get("/v1/packs/mini/parameters", params={"as_of": "2019-12-31"})
    assert paths(problem(response, 422, "as-of-out-of-range")) == ["query.as_of"]


def test_invalid_facts_name_every_field(client: TestClient) -> None:
    facts = {
        "members": [{"age": 40}, {"age": 200, "income_month": -5}],
        "housing": {"tenure": "borettslag"},
        "situation": {"homeless": "yes"},
        "pets": {"dogs": 2},
    }
    body = problem(client.post(EVAL, json={"facts": facts}), 422, "invalid-facts")
    assert sorted(paths(body)) == sorted([
        "facts.members[1].age", "facts.members[1].income_month", "facts.housing.tenure",
        "facts.situation.homeless", "facts.pets"])
    tenure = next(e for e in body["errors"] if e["path"] == "facts.housing.tenure")
    assert tenure["expected"] == "one of leie, eie, ingen"
    assert tenure["value"] == "borettslag"


@pytest.mark.parametrize("body, where", [
    ({}, ["facts"]),
    ({"facts": []}, ["facts"]),
    ({"facts": {}, "lang": "de"}, ["lang"]),
    ({"facts": {}, "surprise": 1}, ["surprise"]),
    ({"facts": {}, "pack_hash": "abc"}, ["pack_hash"]),
    ([1, 2], ["(body)"]),
])
def test_request_that_does_not_fit_is_422(client: TestClient, body: Any,
                                          where: list[str]) -> None:
    assert paths(problem(client.post(EVAL, json=body), 422, "invalid-request")) == where


def test_malformed_pin_header_is_422(client: TestClient) -> None:
    response = client.post(EVAL, json={"facts": {}}, headers={"X-Eligibility-Pack-Hash": "v1"})
    problem(response, 422, "invalid-request")


def test_bearer_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token="s3cret-token")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"},
                    {"Authorization": "Basic s3cret-token"}):
        response = client.post(EVAL, json={"facts": {}}, headers=headers)
        problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        problem(client.get("/v1/packs", headers=headers), 401, "unauthorized")
    good = {"Authorization": "Bearer s3cret-token"}
    assert client.post(EVAL, json={"facts": {}}, headers=good).status_code == 200
    assert client.get("/v1/packs", headers=good).status_code == 200
    assert client.get("/v1/health").status_code == 200  # probes stay open
    assert client.get("/v1/ready").status_code == 200
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_cors(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cors_origins=("https://sak.kommune.no",), api_token="t")
    preflight = client.options(EVAL, headers={
        "Origin": "https://sak.kommune.no", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://sak.kommune.no"
    response = client.get("/v1/health", headers={"Origin": "https://sak.kommune.no"})
    assert response.headers["access-control-allow-origin"] == "https://sak.kommune.no"
    assert "X-Eligibility-Pack-Hash" in response.headers["access-control-expose-headers"]
    other = client.get("/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    plain = make_client().get("/v1/health", headers={"Origin": "https://sak.kommune.no"})
    assert "access-control-allow-origin" not in plain.headers


def test_unexpected_failure_is_a_bare_500(make_client: Callable[..., TestClient],
                                          monkeypatch: pytest.MonkeyPatch,
                                          log_lines: Callable[[], list[str]]) -> None:
    def explode(self: Engine, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals: income 123456")

    monkeypatch.setattr(Engine, "evaluate", explode)
    client = make_client()
    body = problem(client.post(EVAL, json={"facts": MINI_CASE}), 500, "internal-error")
    assert "secret" not in body["detail"] and "RuntimeError" not in body["detail"]
    batch = client.post(BATCH, json={"items": [{"facts": MINI_CASE}]})
    problem(batch, 500, "internal-error")
    logged = "\n".join(log_lines())
    assert '"exc_type": "RuntimeError"' in logged
    assert "secret" not in logged and "123456" not in logged


def test_arithmetic_failure_is_422(make_client: Callable[..., TestClient],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def overflow(self: Engine, *args: Any, **kwargs: Any) -> None:
        raise InvalidOperation("quantize result has too many digits")

    monkeypatch.setattr(Engine, "evaluate", overflow)
    problem(make_client().post(EVAL, json={"facts": MINI_CASE}), 422, "evaluation-error")


def test_huge_amounts_never_crash(client: TestClient) -> None:
    facts = {**MINI_CASE, "housing": {"tenure": "leie", "cost_month": 10**40},
             "members": [{"age": 40, "income_month": "1e30"}]}
    response = client.post(EVAL, json={"facts": facts, "as_of": "2023-06-01"})
    assert response.status_code in (200, 422), response.text
