"""The OpenAPI document: complete, with fixture examples, and the app keeps its promises.

schemathesis generates requests from the app's own ``/openapi.json`` (bounded:
a few examples per operation) and checks that no response is a server error
and every response fits the documented status codes, content types, headers
and schemas.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from eligibility import load_pack
from eligibility.api import Settings, create_app

ROUTES = {
    ("get", "/v1/health"), ("get", "/v1/ready"), ("get", "/v1/packs"),
    ("get", "/v1/packs/{pack_id}"), ("get", "/v1/packs/{pack_id}/schema"),
    ("get", "/v1/packs/{pack_id}/parameters"), ("post", "/v1/packs/{pack_id}/evaluate"),
    ("post", "/v1/packs/{pack_id}/evaluate/batch"), ("post", "/v1/packs/{pack_id}/what-if"),
    ("post", "/v1/packs/{pack_id}/why-not"),
}


def operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m, p) for p, item in doc["paths"].items() for m in item}


def test_document_describes_every_route(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert operations(doc) >= ROUTES
    for (method, path) in operations(doc):
        op = doc["paths"][path][method]
        assert "application/problem+json" in op["responses"]["default"]["content"]
        if "{pack_id}" in path:
            assert {"404", "409"} <= set(op["responses"]), path
            assert op["parameters"][0]["schema"]["enum"] == ["mini"]
        if method == "post":
            assert {"400", "413", "415", "422"} <= set(op["responses"]), path
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["EvaluateRequest"]["properties"]["facts"]["$ref"] == \
        "#/components/schemas/Facts.mini"
    assert schemas["BatchRequest"]["properties"]["items"]["maxItems"] == 100
    assert client.get("/docs").status_code == 200


def test_examples_come_from_the_bundled_fixtures() -> None:
    app = create_app([load_pack("rules/no")], Settings())
    doc = TestClient(app).get("/openapi.json").json()
    body = doc["paths"]["/v1/packs/{pack_id}/evaluate"]["post"]["requestBody"]
    examples = body["content"]["application/json"]["examples"]
    assert "no.familie-utkastelse" in examples
    example = examples["no.familie-utkastelse"]
    assert example["summary"].startswith("Persona: family with three children")
    assert example["value"]["facts"]["housing"]["cost_month"] == 17500
    client = TestClient(app)
    for name, ex in examples.items():  # every documented example is evaluated cleanly
        response = client.post("/v1/packs/no/evaluate", json=ex["value"])
        assert response.status_code == 200, (name, response.text)
    batch = doc["paths"]["/v1/packs/{pack_id}/evaluate/batch"]["post"]["requestBody"]
    [batch_example] = batch["content"]["application/json"]["examples"].values()
    response = client.post("/v1/packs/no/evaluate/batch", json=batch_example["value"])
    assert response.status_code == 200
    assert all(r["ok"] for r in response.json()["results"])


def _app() -> FastAPI:
    return create_app([load_pack("tests/packs/mini")], Settings(max_batch=5))


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_app_keeps_its_openapi_promises(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.parametrize("pack_id", ["mini"])
def test_schemathesis_covers_every_route(pack_id: str) -> None:
    covered = {(op.method.lower(), op.path) for op in
               (result.ok() for result in schema.get_all_operations())}
    assert covered >= ROUTES
