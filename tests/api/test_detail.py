"""``?detail=summary`` on the evaluate routes, and the serialisation of a Decision."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from eligibility import Engine

from .conftest import MINI_CASE

EVAL = "/v1/packs/mini/evaluate"


def test_summary_detail_leaves_out_the_reasons(client: TestClient, engine: Engine) -> None:
    body = {"facts": MINI_CASE, "as_of": "2023-06-01", "lang": "en"}
    response = client.post(EVAL, params={"detail": "summary"}, json=body)
    assert response.status_code == 200
    expected = engine.evaluate(MINI_CASE, date(2023, 6, 1), "en", detail="summary")
    assert response.content == expected.model_dump_json().encode()
    data = response.json()
    assert all(m["reasons"] == [] for m in data["measures"])
    bostotte = next(m for m in data["measures"] if m["id"] == "bostotte")
    assert (bostotte["status"], bostotte["amount"]) == ("eligible", "983")
    full = client.post(EVAL, params={"detail": "full"}, json=body)
    assert full.content == engine.evaluate(MINI_CASE, date(2023, 6, 1), "en") \
        .model_dump_json().encode()


def test_summary_detail_in_a_batch(client: TestClient) -> None:
    item = {"facts": MINI_CASE, "as_of": "2023-06-01"}
    response = client.post(f"{EVAL}/batch", params={"detail": "summary"},
                           json={"items": [item, item]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, True]
    assert all(m["reasons"] == [] for r in results for m in r["decision"]["measures"])


def test_unknown_detail_is_a_problem_not_a_crash(client: TestClient) -> None:
    response = client.post(EVAL, params={"detail": "everything"},
                           json={"facts": MINI_CASE})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "detail" in response.text
