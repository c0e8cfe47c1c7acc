"""Hostile requests to the HTTP service: never a 5xx, pack metadata only with the token.

Requests mix hostile facts documents (as raw JSON text, so ``1e5000``, ``NaN`` and
10 000-deep arrays arrive as written), hostile what-if changes (YAML bombs in a
member mapping, ``members = 10000000``, exponent strings), junk bodies and content
types, hostile queries, pins and pack ids, on a service with and without a token.
The slowest request's CPU time is printed (not asserted:
``bench/bench_hostile.py`` measures the worst cases on their own).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eligibility.api import Settings, create_app
from eligibility.pack.loader import load_pack
from tests.fuzz.conftest import SEED, size
from tests.fuzz.hostile import (
    base_households,
    hostile_facts,
    hostile_value,
    junk_texts,
    to_json_text,
)

TOKEN = "fuzz-token"
PATHS = ["economy.savings", "members[0].age", "members", "members[+]", "members[0]",
         "housing.cost_month", "situation.homeless", "members[-1].income_month",
         "economy.unknown", "x", "members[99999999999].age", "__class__", "a" * 300, ""]
BOMB = "{a: &a [x, x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]," \
       " c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b], d: [*c, *c, *c, *c, *c, *c, *c, *c]}"


@pytest.fixture(scope="module")
def clients() -> tuple[TestClient, TestClient]:
    pack = load_pack("rules/no")
    open_app = create_app([pack], Settings(max_batch=20))
    locked = create_app([pack], Settings(max_batch=20, api_token=TOKEN))
    return TestClient(open_app), TestClient(locked)


def _as_of(rng: random.Random) -> Any:
    return rng.choice(["2026-07-01", "2026-07-01", None, "2026-02-30", "1900-01-01", "x",
                       "9" * 5000, 20260701, "2026-07-01T00:00:00"])


def _request(rng: random.Random, bases: list[dict[str, Any]]) -> tuple[str, str, dict[str, Any]]:
    """(method, url, httpx keyword arguments) of one hostile request."""
    json_headers = {"content-type": "application/json"}
    kind = rng.randrange(10)
    if kind <= 2:
        body = {"facts": hostile_facts(rng, bases), "as_of": _as_of(rng),
                "lang": rng.choice(["nb", "en", "de", None, 1])}
        return "POST", "/v1/packs/no/evaluate", {"content": to_json_text(body),
                                                 "headers": json_headers}
    if kind == 3:
        items = [{"facts": hostile_facts(rng, bases), "as_of": "2026-07-01"}
                 for _ in range(rng.randint(1, 5))]
        if rng.random() < 0.2:
            items = [hostile_value(rng)] * rng.choice((3, 21, 500))
        return "POST", "/v1/packs/no/evaluate/batch", {
            "content": to_json_text({"items": items}), "headers": json_headers}
    if kind <= 5:
        path = rng.choice(PATHS)
        value = rng.choice([hostile_value(rng), BOMB, "{age: 5}", 10_000_000, "9e999999",
                            "{a: " + "[" * 3000 + "}", "{a: \x00}", "{a: \x9a}"])
        body = {"facts": rng.choice(bases), "changes": {path: value},
                "as_of": "2026-07-01"}
        return "POST", "/v1/packs/no/what-if", {"content": to_json_text(body),
                                                "headers": json_headers}
    if kind == 6:
        body = {"facts": hostile_facts(rng, bases) if rng.random() < 0.5 else
                rng.choice(bases), "as_of": "2026-07-01",
                "measure_id": rng.choice([None, "bostotte", "x" * 1000, 5, "startlan"])}
        return "POST", "/v1/packs/no/why-not", {"content": to_json_text(body),
                                                "headers": json_headers}
    if kind == 7:
        _, data = junk_texts(rng)
        media = rng.choice(["application/json", "text/plain", "application/x-yaml",
                            "application/problem+json", "", "multipart/form-data"])
        return "POST", rng.choice(["/v1/packs/no/evaluate", "/v1/packs/no/what-if",
                                   "/v1/packs/no/evaluate/batch"]), {
            "content": data[:1_100_000], "headers": {"content-type": media}}
    if kind == 8:
        query = rng.choice(["2026-02-30", "x", "9" * 5000, "%01", "2026-07-01",
                            "%00", "1900-01-01", "2026-07-01&as_of=2027-01-01"])
        return "GET", f"/v1/packs/no/parameters?as_of={query}", {}
    pack = rng.choice(["no", "../no", "x" * 300, "%2e%2e", "no%00", "NO", "mini"])
    pin = rng.choice([None, "null", "", "sha256:" + "0" * 64, "g" * 64, "%ff" * 10, " " * 3])
    headers = {} if pin is None else {"X-Eligibility-Pack-Hash": pin}
    return rng.choice(["GET", "OPTIONS", "DELETE"]), rng.choice(
        [f"/v1/packs/{pack}", f"/v1/packs/{pack}/schema", "/v1/packs", "/v1/ready",
         "/openapi.json", "/v1/../etc/passwd"]), {"headers": headers}


_META = ("x-eligibility-pack", "x-eligibility-pack-version", "x-eligibility-pack-hash",
         "x-eligibility-packs")


def test_hostile_requests_never_give_a_5xx(clients: tuple[TestClient, TestClient],
                                           tally: Counter[str],
                                           canary_dirs: list[Any]) -> None:
    open_client, locked = clients
    rng = random.Random(SEED)
    bases = base_households()
    n = size("ELIGIBILITY_FUZZ_REQUESTS")
    statuses: Counter[int] = Counter()
    bad: list[str] = []
    slowest = 0.0
    for i in range(n):
        method, url, kwargs = _request(rng, bases)
        client = open_client
        if i % 10 == 0:
            client = locked
            if rng.random() < 0.5:
                kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {TOKEN}"
        started = time.process_time()
        response = client.request(method, url, **kwargs)
        slowest = max(slowest, time.process_time() - started)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            bad.append(f"{method} {url[:80]} -> {response.status_code}: {response.text[:300]}")
        if client is locked and response.status_code == 401:
            leaked = [h for h in _META if h in response.headers]
            if leaked or '"pack_id"' in response.text or '"content_hash"' in response.text:
                bad.append(f"401 for {method} {url[:60]} shows pack metadata: {leaked}")
    tally["HTTP fuzz requests"] += n
    for status, count in sorted(statuses.items()):
        tally[f"  HTTP {status}"] += count
    tally["HTTP 5xx (or metadata leaks)"] += len(bad)
    tally["HTTP slowest request, ms CPU"] = max(tally["HTTP slowest request, ms CPU"],
                                                int(slowest * 1000))
    assert not bad, bad[:5]


def test_options_carries_no_metadata_without_the_token(
        clients: tuple[TestClient, TestClient]) -> None:
    _, locked = clients
    for method in ("OPTIONS", "GET"):
        response = locked.request(method, "/v1/packs/no")
        assert not [h for h in _META if h in response.headers], (method, response.headers)
        assert "content_hash" not in response.text
    ok = locked.get("/v1/packs/no", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.headers["x-eligibility-pack"] == "no"
