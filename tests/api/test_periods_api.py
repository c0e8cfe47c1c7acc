"""HTTP: ``from``/``to``/``monthly`` in the evaluate body return the periods; provenance."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import MINI_CASE

URL = "/v1/packs/mini/evaluate"


def test_evaluate_with_a_period(client: TestClient) -> None:
    body = {"facts": MINI_CASE, "from": "2023-06-01", "to": "2024-12-31", "lang": "en"}
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert [p["from"] for p in data["periods"]] == ["2023-06-01", "2024-01-01"]
    changed = data["periods"][1]["measure_changes"]
    assert any(m["id"] == "bostotte" for m in changed)
    assert data["periods"][0]["decision"]["lang"] == "en"


def test_a_period_needs_both_ends(client: TestClient) -> None:
    response = client.post(URL, json={"facts": MINI_CASE, "from": "2023-06-01"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "to"
    backwards = client.post(URL, json={"facts": MINI_CASE, "from": "2024-06-01",
                                       "to": "2023-06-01"})
    assert backwards.status_code == 422 and "before it starts" in backwards.json()["detail"]


def test_a_batch_item_refuses_a_period(client: TestClient) -> None:
    item = {"facts": MINI_CASE, "from": "2023-06-01", "to": "2024-12-31"}
    response = client.post(URL + "/batch", json={"items": [item]})
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["ok"] is False
    assert result["problem"]["type"].endswith("invalid-request")
    assert "one household at a time" in result["problem"]["detail"]


def test_dated_facts_over_http(client: TestClient) -> None:
    facts = {**MINI_CASE, "members": [{"age": 40, "income_month": [
        {"from": "2023-06-01", "value": 10000}, {"from": "2023-09-01", "value": 15000}]}]}
    response = client.post(URL, json={"facts": facts, "from": "2023-06-01",
                                      "to": "2023-12-31"})
    assert response.status_code == 200, response.text
    periods = response.json()["periods"]
    assert periods[1]["from"] == "2023-09-01"
    assert periods[1]["changes"][0] == {"kind": "fact", "name": "members[0].income_month",
                                        "effect": "changes", "value": 15000}


def test_a_bad_wrapper_is_a_422_naming_the_path(client: TestClient) -> None:
    facts = {**MINI_CASE, "housing": {"tenure": "leie",
                                      "cost_month": {"value": 6000, "origin": "x"}}}
    response = client.post(URL, json={"facts": facts, "as_of": "2023-06-01"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "facts.housing.cost_month.origin"
