"""The access log: one JSON line per request, with timing and hashes, never the facts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from eligibility import Engine

from .conftest import MINI_CASE


def test_one_json_line_per_request(client: TestClient, engine: Engine,
                                   log_lines: Callable[[], list[str]]) -> None:
    response = client.post("/v1/packs/mini/evaluate", json={"facts": MINI_CASE,
                                                            "as_of": "2023-06-01"},
                           headers={"X-Request-Id": "case-42"})
    client.get("/v1/packs/nope")
    lines = log_lines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["request_id"] == "case-42" == response.headers["X-Request-Id"]
    assert first["method"] == "POST"
    assert first["route"] == "/v1/packs/{pack_id}/evaluate"
    assert first["status"] == 200
    assert first["pack"] == "mini"
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] > 0
    expected = engine.evaluate(MINI_CASE, as_of=date(2023, 6, 1))
    assert first["facts_sha256"] == expected.provenance.facts_sha256
    assert (second["route"], second["status"]) == ("/v1/packs/{pack_id}", 404)
    assert "facts_sha256" not in second


def test_no_fact_value_or_identifier_is_logged(client: TestClient,
                                               log_lines: Callable[[], list[str]]) -> None:
    facts = {"members": [{"age": 97, "income_month": 918273.45}],
             "housing": {"tenure": "leie", "cost_month": 7311.37},
             "situation": {"since": "2021-03-17"}}
    client.post("/v1/packs/mini/evaluate", json={"facts": facts})
    client.post("/v1/packs/mini/evaluate", json={"facts": {**facts, "members": [{"age": 918}]}})
    client.post("/v1/packs/mini/evaluate/batch", json={"items": [{"facts": facts}] * 2})
    client.get("/v1/packs/mini/parameters?as_of=2023-06-01&fnr=01017012345",
               headers={"Authorization": "Bearer 01017012345"})
    logged = "\n".join(log_lines())
    assert len(log_lines()) == 4
    for secret in ("918273.45", "7311.37", "2021-03-17", "01017012345", "fnr",
                   "income_month", "members", "leie"):
        assert secret not in logged, secret
    batch = json.loads(log_lines()[2])
    assert len(batch["facts_sha256"]) == 2
