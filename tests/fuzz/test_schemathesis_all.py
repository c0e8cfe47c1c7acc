"""Schemathesis with every check (``--checks all``) against the bundled pack's service.

Every operation of the OpenAPI document is exercised with generated requests and
all of schemathesis' checks: no server error, status codes, content types, headers
and bodies as documented, schema-valid requests accepted and schema-invalid ones
refused (so the document says exactly what the service validates). Examples per
operation: ``ELIGIBILITY_FUZZ_SCHEMATHESIS`` (CI default 15).
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation.meta import GenerationMode

from eligibility.api import Settings, create_app
from eligibility.pack.loader import load_pack

EXAMPLES = int(os.environ.get("ELIGIBILITY_FUZZ_SCHEMATHESIS", "").strip() or 15)

load_all_checks()
ALL_CHECKS = CHECKS.get_all()  # what `st run --checks all` runs

schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app([load_pack("rules/no")], Settings(max_batch=5)))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_check(case: schemathesis.Case) -> None:
    body = case.body if isinstance(case.body, dict) else {}
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if not positive or body.get("from") is None or body.get("to") is None:
        case.call_and_validate(checks=ALL_CHECKS)
        return
    # A period's order and length (at most 3660 days) are stated in `to`'s description:
    # JSON Schema cannot compare two dates, so a schema-valid period may be refused —
    # with a 422 that names `to`, which is checked here instead.
    checks = [c for c in ALL_CHECKS if c.__name__ != "positive_data_acceptance"]
    response = case.call_and_validate(checks=checks)
    if response.status_code == 422:
        paths = {e.get("path") for e in response.json().get("errors", [])}
        assert paths == {"to"}, response.text
        assert "period" in response.text or "before it starts" in response.text


def test_every_check_is_run() -> None:
    names = {check.__name__ for check in ALL_CHECKS}
    assert {"not_a_server_error", "positive_data_acceptance", "negative_data_rejection",
            "response_schema_conformance", "ignored_auth", "use_after_free"} <= names
