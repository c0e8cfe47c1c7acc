"""What-if and why-not over HTTP: the library's answers, with the service's errors."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from eligibility import Engine, RulePack
from eligibility.explain.whynot import why_not
from eligibility.whatif import what_if

from .conftest import MINI_CASE


def test_what_if_compares_two_decisions(client: TestClient, engine: Engine,
                                        mini_pack: RulePack) -> None:
    changes = {"members[0].income_month": 30000}
    response = client.post("/v1/packs/mini/what-if", json={
        "facts": MINI_CASE, "changes": changes, "as_of": "2023-06-01", "lang": "en"})
    assert response.status_code == 200, response.text
    expected = what_if(engine, MINI_CASE, changes, date(2023, 6, 1), "en")
    assert response.json() == expected.model_dump(mode="json")
    bostotte = next(m for m in response.json()["measures"] if m["id"] == "bostotte")
    assert (bostotte["status_before"], bostotte["status_after"]) == ("eligible", "not_eligible")
    assert response.headers["X-Eligibility-Pack-Hash"] == mini_pack.content_hash


def test_what_if_errors(client: TestClient) -> None:
    bad_path = client.post("/v1/packs/mini/what-if", json={
        "facts": MINI_CASE, "changes": {"members[0].shoe_size": 44}})
    assert bad_path.status_code == 422
    assert bad_path.json()["errors"][0]["path"] == "changes"
    assert "shoe_size" in bad_path.json()["detail"]
    bad_facts = client.post("/v1/packs/mini/what-if", json={
        "facts": {"members": [{"age": "old"}]}, "changes": {}})
    assert bad_facts.status_code == 422
    assert bad_facts.json()["errors"][0]["path"] == "facts.members[0].age"
    assert client.post("/v1/packs/mini/what-if", json={"facts": {}}).status_code == 422


def test_why_not_gives_thresholds(client: TestClient, engine: Engine) -> None:
    facts = {**MINI_CASE, "members": [{"age": 40, "income_month": 30000}]}
    response = client.post("/v1/packs/mini/why-not", json={
        "facts": facts, "as_of": "2023-06-01", "lang": "en", "measure_id": "bostotte"})
    assert response.status_code == 200, response.text
    expected = why_not(engine, facts, date(2023, 6, 1), "en", "bostotte")
    assert response.json() == expected.model_dump(mode="json")
    [measure] = response.json()["measures"]
    assert measure["id"] == "bostotte" and measure["status"] == "not_eligible"
    assert response.json()["provenance"]["pack_id"] == "mini"


def test_why_not_unknown_measure_is_422(client: TestClient) -> None:
    response = client.post("/v1/packs/mini/why-not", json={"facts": MINI_CASE,
                                                           "measure_id": "nope"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "measure_id"
    out_of_range = client.post("/v1/packs/mini/why-not", json={"facts": MINI_CASE,
                                                               "as_of": "2001-01-01"})
    assert out_of_range.status_code == 422
    assert out_of_range.json()["type"].endswith(":as-of-out-of-range")
