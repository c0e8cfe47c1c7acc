"""HTTP: ``from``/``to``/``monthly`` in the evaluate and what-if bodies return the periods
(why-not refuses them), period errors name ``from``/``to``, provenance on both sides."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient

from eligibility import Engine
from eligibility.whatif import what_if, what_if_period
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


# -- period errors name from/to; the limit is in the OpenAPI -------------------------------

def test_period_errors_name_from_or_to(client: TestClient) -> None:
    cases = [
        ({"from": "2024-06-01", "to": "2023-06-01"}, "to", "invalid-request", "before it starts"),
        ({"from": "2023-01-01", "to": "2033-01-08"}, "to", "invalid-request", "3660 days"),
        ({"from": "2019-06-01", "to": "2023-06-01"}, "from", "as-of-out-of-range", "outside"),
    ]
    for period, field, kind, text in cases:
        for url, extra in ((URL, {}), ("/v1/packs/mini/what-if", {"changes": {}})):
            response = client.post(url, json={"facts": MINI_CASE, **period, **extra})
            assert response.status_code == 422, (url, period)
            problem = response.json()
            assert problem["type"].endswith(kind)
            assert text in problem["detail"]
            assert [e["path"] for e in problem["errors"]] == [field]
            assert problem["errors"][0]["value"] == period[field]


def test_the_longest_period_is_accepted(client: TestClient) -> None:
    # 3660 days, both ends included
    response = client.post(URL, json={"facts": MINI_CASE, "from": "2023-01-01",
                                      "to": "2033-01-07"})
    assert response.status_code == 200, response.text
    assert client.post(URL, json={"facts": MINI_CASE, "from": "2023-01-01",
                                  "to": "2033-01-08"}).status_code == 422


def test_openapi_states_the_period_rules(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    request = doc["components"]["schemas"]["EvaluateRequest"]["properties"]
    assert "3660 days" in request["to"]["description"]
    assert "`to`" in request["to"]["description"] and "`from`" in request["from"]["description"]
    paths = doc["paths"]
    assert "3660 days" in paths["/v1/packs/{pack_id}/evaluate"]["post"]["description"]
    what_if = paths["/v1/packs/{pack_id}/what-if"]["post"]
    assert "3660 days" in what_if["description"]
    shape = what_if["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {b["$ref"].rsplit("/", 1)[1] for b in shape["anyOf"]}
    assert refs == {"WhatIfResult", "WhatIfPeriodResult"}
    evaluate = paths["/v1/packs/{pack_id}/evaluate"]["post"]["responses"]["200"]
    assert {b["$ref"].rsplit("/", 1)[1] for b in
            evaluate["content"]["application/json"]["schema"]["anyOf"]} == {
        "Decision", "PeriodResult"}
    period = doc["components"]["schemas"]["WhatIfPeriod"]["properties"]
    assert {"from", "to", "baseline", "variant", "measures", "changes"} <= set(period)
    assert "refused" in paths["/v1/packs/{pack_id}/why-not"]["post"]["description"]
    schemas = doc["components"]["schemas"]
    for name in ("EvaluateRequest", "WhatIfRequest"):
        assert {"from", "to", "monthly"} <= set(schemas[name]["properties"])
    why_not = schemas["WhyNotRequest"]
    assert not {"from", "to", "monthly"} & set(why_not["properties"])
    assert why_not["additionalProperties"] is False


# -- what-if over a period; why-not refuses one --------------------------------------------

def test_what_if_over_a_period(client: TestClient, engine: Engine) -> None:
    body = {"facts": MINI_CASE, "changes": {"members[0].income_month": 14000},
            "from": "2023-06-01", "to": "2024-12-31", "lang": "en", "name": "more"}
    response = client.post("/v1/packs/mini/what-if", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    expected = what_if_period(engine, MINI_CASE, {"members[0].income_month": 14000},
                              date(2023, 6, 1), date(2024, 12, 31), lang="en", name="more")
    assert data == json.loads(expected.to_json())
    assert (data["from"], data["to"], data["name"]) == ("2023-06-01", "2024-12-31", "more")
    assert [p["from"] for p in data["periods"]] == ["2023-06-01", "2024-01-01"]
    assert data["periods"][0]["to"] == "2023-12-31"
    for period in data["periods"]:
        when = date.fromisoformat(period["from"])
        point = what_if(engine, MINI_CASE, {"members[0].income_month": 14000}, when, "en")
        assert period["measures"] == point.model_dump(mode="json")["measures"]
        assert period["baseline"]["as_of"] == period["from"]
    assert data["changes"] == [{"path": "members[0].income_month", "before": 10000,
                                "after": 14000}]
    only_from = client.post("/v1/packs/mini/what-if", json={**body, "to": None})
    assert only_from.status_code == 422 and only_from.json()["errors"][0]["path"] == "to"


def test_why_not_refuses_a_period_naming_the_field(client: TestClient) -> None:
    url = "/v1/packs/mini/why-not"
    for extra, field in (({"from": "2023-06-01", "to": "2023-12-31"}, "from"),
                         ({"to": "2023-12-31"}, "to"), ({"monthly": True}, "monthly")):
        response = client.post(url, json={"facts": MINI_CASE, **extra})
        assert response.status_code == 422, extra
        assert [e["path"] for e in response.json()["errors"]] == [field]
        assert "one date" in response.json()["detail"]


def test_what_if_shows_what_to_confirm_on_both_sides(client: TestClient) -> None:
    facts = {**MINI_CASE, "housing": {"tenure": "leie", "cost_month": {"value": 6000}},
             "members": [{"age": 40, "income_month": {"value": 10000}}]}
    response = client.post("/v1/packs/mini/what-if", json={
        "facts": facts, "changes": {"members[0].income_month": 9000}, "as_of": "2023-06-01"})
    assert response.status_code == 200, response.text
    data = response.json()
    base = {c["path"] for c in data["baseline"]["confirm_before_deciding"]}
    variant = {c["path"] for c in data["variant"]["confirm_before_deciding"]}
    assert base == {"housing.cost_month", "members[0].income_month"}
    assert variant == {"housing.cost_month"}  # the changed fact is the variant's hypothesis
    # the change shows the value, not the wrapper
    assert data["changes"] == [{"path": "members[0].income_month", "before": 10000,
                                "after": 9000}]
    over = client.post("/v1/packs/mini/what-if", json={
        "facts": facts, "changes": {"members[0].income_month": 9000},
        "from": "2023-06-01", "to": "2023-12-31"}).json()
    first = over["periods"][0]
    assert {c["path"] for c in first["baseline"]["confirm_before_deciding"]} == base
    assert {c["path"] for c in first["variant"]["confirm_before_deciding"]} == variant


# the document's period constraint says exactly what the service refuses
PERIOD_BODIES = [
    {}, {"from": None, "to": None}, {"from": None, "to": None, "monthly": False},
    {"from": "2024-01-01", "to": "2024-03-31"},
    {"from": "2024-01-01", "to": "2024-03-31", "monthly": True},
    {"from": "2024-01-01"}, {"to": "2024-03-31"},
    {"from": "2024-01-01", "to": None}, {"from": None, "to": "2024-03-31"},
    {"monthly": True}, {"from": None, "to": None, "monthly": True},
    {"from": "2024-01-01", "monthly": True},
]


@pytest.mark.parametrize("route,name", [("evaluate", "EvaluateRequest"),
                                        ("what-if", "WhatIfRequest")])
@pytest.mark.parametrize("period", PERIOD_BODIES)
def test_the_period_constraint_matches_the_service(
        client: TestClient, route: str, name: str, period: dict[str, object]) -> None:
    import jsonschema_rs

    doc = client.get("/openapi.json").json()
    constraint = {"allOf": doc["components"]["schemas"][name]["allOf"]}
    body: dict[str, object] = {"facts": MINI_CASE, "as_of": "2024-01-01", **period}
    if route == "what-if":
        body["changes"] = {"members[0].income_month": 14000}
    response = client.post(f"/v1/packs/mini/{route}", json=body)
    accepted = response.status_code == 200
    assert jsonschema_rs.validator_for(constraint).is_valid(body) == accepted, response.text
    if not accepted:
        assert response.status_code == 422
        assert {p["path"] for p in response.json()["errors"]} & {"from", "to", "monthly"}
