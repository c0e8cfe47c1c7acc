"""Every /v1 route on the mini pack: bodies, pack headers, pinning, batch, several packs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eligibility import Engine, RulePack, load_pack

from .conftest import MINI_CASE

EVAL = "/v1/packs/mini/evaluate"
BATCH = "/v1/packs/mini/evaluate/batch"


def assert_pack_headers(response: Any, pack: RulePack) -> None:
    assert response.headers["X-Eligibility-Pack"] == pack.meta.id
    assert response.headers["X-Eligibility-Pack-Version"] == pack.meta.version
    assert response.headers["X-Eligibility-Pack-Hash"] == pack.content_hash


def test_health_and_ready(client: TestClient, mini_pack: RulePack) -> None:
    health = client.get("/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = client.get("/v1/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "packs": [{
        "pack_id": "mini", "pack_version": "1.0.0", "content_hash": mini_pack.content_hash}]}
    assert mini_pack.content_hash in ready.headers["X-Eligibility-Packs"]


def test_not_ready_without_packs(make_client: Callable[..., TestClient]) -> None:
    response = make_client(packs=[]).get("/v1/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


def test_list_packs(client: TestClient, mini_pack: RulePack) -> None:
    response = client.get("/v1/packs")
    assert response.status_code == 200
    [info] = response.json()["packs"]
    assert info["pack_id"] == "mini"
    assert info["content_hash"] == mini_pack.content_hash
    assert f"mini/1.0.0/{mini_pack.content_hash}" in response.headers["X-Eligibility-Packs"]


def test_pack_metadata(client: TestClient, mini_pack: RulePack) -> None:
    response = client.get("/v1/packs/mini")
    assert response.status_code == 200
    body = response.json()
    assert body["pack_version"] == "1.0.0"
    assert body["content_hash"] == mini_pack.content_hash
    assert body["valid_from"] == "2020-01-01"
    assert body["valid_to"] is None
    assert body["languages"] == ["nb", "en"]
    assert body["title"] == {"nb": "Minipakke for tester", "en": "Mini pack for tests"}
    assert {m["id"] for m in body["measures"]} == {"bostotte", "midlertidig_botilbud",
                                                   "startlan"}
    assert_pack_headers(response, mini_pack)


def test_facts_schema(client: TestClient, mini_pack: RulePack) -> None:
    response = client.get("/v1/packs/mini/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["$schema"].endswith("2020-12/schema")
    assert mini_pack.content_hash in schema["$id"]
    assert schema["x-eligibility-pack"]["content_hash"] == mini_pack.content_hash
    assert set(schema["properties"]) == {"household", "members", "housing", "economy",
                                         "situation"}
    assert schema["additionalProperties"] is False
    age = schema["$defs"]["Facts_members"]["properties"]["age"]["anyOf"][0]
    assert (age["type"], age["minimum"], age["maximum"]) == ("integer", 0, 130)
    assert_pack_headers(response, mini_pack)


def test_parameters_follow_the_date(client: TestClient, mini_pack: RulePack) -> None:
    old = client.get("/v1/packs/mini/parameters", params={"as_of": "2023-06-01"})
    new = client.get("/v1/packs/mini/parameters", params={"as_of": "2024-06-01"})
    assert old.status_code == new.status_code == 200
    before = old.json()["parameters"]["bostotte.egenandel"]
    after = new.json()["parameters"]["bostotte.egenandel"]
    assert (before["value"], before["valid_from"], before["unconfirmed"]) == (
        20000, "2016-01-01", False)
    assert (after["value"], after["valid_from"], after["unconfirmed"]) == (
        24000, "2024-01-01", True)
    assert new.json()["parameters"]["bostotte.tak"]["value"] == {
        "1": 72000, "2": 96000, "3": 108000}
    assert new.json()["parameters"]["bostotte.dekning"]["value"] == "0.737"
    assert new.json()["as_of"] == "2024-06-01"
    assert_pack_headers(new, mini_pack)


def test_parameters_default_to_today(client: TestClient) -> None:
    response = client.get("/v1/packs/mini/parameters")
    assert response.status_code == 200
    assert response.json()["as_of"] == date.today().isoformat()


def test_evaluate_gives_the_engines_decision(client: TestClient, engine: Engine,
                                            mini_pack: RulePack) -> None:
    response = client.post(EVAL, json={"facts": MINI_CASE, "as_of": "2023-06-01",
                                       "lang": "en"})
    assert response.status_code == 200
    body = response.json()
    expected = engine.evaluate(MINI_CASE, as_of=date(2023, 6, 1), lang="en")
    assert response.text == expected.model_dump_json()
    bostotte = next(m for m in body["measures"] if m["id"] == "bostotte")
    assert (bostotte["status"], bostotte["amount"]) == ("eligible", "983")
    assert bostotte["title"] == "Housing allowance"
    assert body["provenance"]["content_hash"] == mini_pack.content_hash
    assert body["provenance"]["facts_sha256"] == expected.provenance.facts_sha256
    assert_pack_headers(response, mini_pack)


def test_evaluate_defaults(client: TestClient) -> None:
    body = client.post(EVAL, json={"facts": MINI_CASE}).json()
    assert body["lang"] == "nb"
    assert body["as_of"] == date.today().isoformat()
    assert next(m for m in body["measures"] if m["id"] == "bostotte")["title"] == "Bostøtte"


def test_evaluate_with_missing_facts_names_them(client: TestClient) -> None:
    body = client.post(EVAL, json={"facts": {}, "as_of": "2023-06-01", "lang": "en"}).json()
    assert {m["status"] for m in body["measures"]} == {"undetermined"}
    assert "situation.homeless" in {f["path"] for f in body["missing_facts"]}


@pytest.mark.parametrize("pin", ["{hash}", "sha256:{hash}", "{HASH}"])
def test_pin_that_matches_is_accepted(client: TestClient, mini_pack: RulePack,
                                      pin: str) -> None:
    value = pin.format(hash=mini_pack.content_hash, HASH=mini_pack.content_hash.upper())
    by_header = client.post(EVAL, json={"facts": MINI_CASE},
                            headers={"X-Eligibility-Pack-Hash": value})
    assert by_header.status_code == 200
    assert client.get("/v1/packs/mini", headers={"X-Eligibility-Pack-Hash": value}
                      ).status_code == 200
    if pin != "{HASH}":
        by_body = client.post(EVAL, json={"facts": MINI_CASE, "pack_hash": value})
        assert by_body.status_code == 200


def test_pin_that_differs_is_a_conflict(client: TestClient, mini_pack: RulePack) -> None:
    other = "0" * 64
    for response in (
        client.post(EVAL, json={"facts": MINI_CASE}, headers={"X-Eligibility-Pack-Hash": other}),
        client.post(EVAL, json={"facts": MINI_CASE, "pack_hash": other}),
        client.post(BATCH, json={"items": [{"facts": MINI_CASE}], "pack_hash": other}),
        client.get("/v1/packs/mini/schema", headers={"X-Eligibility-Pack-Hash": other}),
        client.get("/v1/packs/mini/parameters", headers={"X-Eligibility-Pack-Hash": other}),
    ):
        assert response.status_code == 409
        problem = response.json()
        assert problem["type"] == "urn:eligibility:problem:pack-hash-conflict"
        assert mini_pack.content_hash in problem["detail"] and other in problem["detail"]
        assert problem["content_hash"] == mini_pack.content_hash
        assert_pack_headers(response, mini_pack)


def test_batch_mixes_decisions_and_problems(client: TestClient, engine: Engine,
                                            mini_pack: RulePack) -> None:
    items: list[Any] = [
        {"facts": MINI_CASE, "as_of": "2023-06-01"},
        {"facts": {"members": [{"age": -1}]}},
        {"facts": MINI_CASE, "as_of": "not a date"},
        "not an object",
        {"facts": MINI_CASE, "as_of": "1999-01-01"},
        {"facts": MINI_CASE, "pack_hash": "f" * 64},
        {"facts": MINI_CASE, "as_of": "2024-06-01", "lang": "en"},
    ]
    response = client.post(BATCH, json={"items": items})
    assert response.status_code == 200
    body = response.json()
    assert body["content_hash"] == mini_pack.content_hash
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["ok"] for r in results] == [True, False, False, False, False, False, True]
    first = engine.evaluate(MINI_CASE, as_of=date(2023, 6, 1))
    assert results[0]["decision"] == first.model_dump(mode="json")
    statuses = [r["problem"]["status"] for r in results if not r["ok"]]
    assert statuses == [422, 422, 422, 422, 409]
    assert results[1]["problem"]["errors"][0]["path"] == "items[1].facts.members[0].age"
    assert results[2]["problem"]["errors"][0]["path"] == "items[2].as_of"
    assert results[3]["problem"]["errors"][0]["path"] == "items[3]"
    assert results[4]["problem"]["type"].endswith(":as-of-out-of-range")
    assert results[4]["problem"]["errors"][0]["path"] == "items[4].as_of"
    assert results[6]["decision"]["lang"] == "en"
    assert_pack_headers(response, mini_pack)


def test_several_packs(make_client: Callable[..., TestClient], mini_pack: RulePack,
                       pack_copy: Callable[..., Path]) -> None:
    other = load_pack(pack_copy({"pack.yaml": [("id: mini", "id: annen"),
                                               ('version: "1.0.0"', 'version: "2.0.0"')]}))
    client = make_client(packs=[mini_pack, other])
    assert [p["pack_id"] for p in client.get("/v1/packs").json()["packs"]] == ["mini", "annen"]
    response = client.post("/v1/packs/annen/evaluate", json={"facts": MINI_CASE})
    assert response.status_code == 200
    assert response.json()["provenance"]["pack_id"] == "annen"
    assert_pack_headers(response, other)
    assert client.post(EVAL, json={"facts": MINI_CASE}).json()["provenance"]["pack_id"] == "mini"


def test_two_packs_with_one_id_are_refused(mini_pack: RulePack) -> None:
    from eligibility.api import create_app

    with pytest.raises(ValueError, match="two packs have the id 'mini'"):
        create_app([mini_pack, mini_pack])
