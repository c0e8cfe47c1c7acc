"""Fixtures for the HTTP service tests: an app on the mini pack and its test client."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from eligibility import RulePack
from eligibility.api import Settings, create_app
from eligibility.api.logs import ACCESS_LOGGER, ERROR_LOGGER, JsonFormatter

MINI_CASE: dict[str, Any] = {
    "household": {"kommunegruppe": 4, "registered": True},
    "members": [{"age": 40, "income_month": 10000}],
    "housing": {"tenure": "leie", "cost_month": 6000},
    "situation": {"homeless": False},
}
"""The mini pack's case ``enslig``: bostøtte eligible with 983 NOK/month on 2023-06-01."""


@pytest.fixture
def make_client(mini_pack: RulePack) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(packs: list[RulePack] | None = None, **settings: Any) -> TestClient:
        app = create_app(packs if packs is not None else [mini_pack], Settings(**settings))
        client = TestClient(app, raise_server_exceptions=True)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="module")
def mini_app(mini_pack: RulePack) -> FastAPI:
    return create_app([mini_pack], Settings())


@pytest.fixture
def client(mini_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(mini_app) as test_client:
        yield test_client


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[str]]]:
    """Capture the service's access and error logs exactly as they are formatted."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(ACCESS_LOGGER), logging.getLogger(ERROR_LOGGER)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    yield lambda: stream.getvalue().splitlines()
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)
