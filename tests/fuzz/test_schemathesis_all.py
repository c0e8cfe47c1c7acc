"""Schemathesis with every check against the bundled pack's service."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from eligibility.api import Settings, create_app
from eligibility.pack.loader import load_pack

schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app([load_pack("rules/no")], Settings(max_batch=5)))


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_check(case: schemathesis.Case) -> None:
    case.call_and_validate()
