"""The HTTP service returns the amount's calculation in the full Decision."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import MINI_CASE

EVAL = "/v1/packs/mini/evaluate"


def test_full_decision_has_the_calculation(client: TestClient) -> None:
    response = client.post(EVAL, json={"facts": MINI_CASE, "as_of": "2023-06-01",
                                       "lang": "en"})
    assert response.status_code == 200
    bostotte = next(m for m in response.json()["measures"] if m["id"] == "bostotte")
    steps = bostotte["calculation"]
    assert [s["name"] for s in steps] == ["inntekt_aar", "criteria.husstand", "tak",
                                          "egenandel", "amount"]
    assert steps[-1]["value"] == "983" and steps[-1]["exact"].startswith("982.666")
    assert steps[2]["parameters"][0]["valid_from"] == "2016-01-01"


def test_unknown_steps_name_the_facts_they_wait_for(client: TestClient) -> None:
    facts = {**MINI_CASE, "members": [{"age": 40}]}
    body = client.post(EVAL, json={"facts": facts, "as_of": "2023-06-01"}).json()
    bostotte = next(m for m in body["measures"] if m["id"] == "bostotte")
    amount = bostotte["calculation"][-1]
    assert amount["known"] is False and amount["value"] is None
    assert amount["waiting_for"] == ["members[0].income_month"]
