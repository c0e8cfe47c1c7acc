"""/docs and /redoc: their scripts and styles come from this server, never a CDN."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eligibility import RulePack

_REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    refs = [a or b for a, b in _REFERENCE.findall(response.text)]
    assert refs, "the page references its scripts"
    assert "http" not in response.text.lower().replace("http-equiv", "")
    for ref in refs:
        assert ref.startswith("/"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 100, ref


def test_docs_assets_are_not_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p.startswith(("/docs", "/redoc")) for p in paths)


def test_docs_assets_need_no_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token="secret")
    assert client.get("/docs").status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
    assert client.get("/v1/packs").status_code == 401


def test_without_the_assets_the_docs_page_names_the_extra(
        monkeypatch: pytest.MonkeyPatch, mini_pack: RulePack) -> None:
    from eligibility.api import Settings, app

    def missing() -> Path:
        raise ModuleNotFoundError("fastapi_offline")

    monkeypatch.setattr(app, "docs_assets", missing)
    with TestClient(app.create_app([mini_pack], Settings())) as client:
        for page in ("/docs", "/redoc"):
            response = client.get(page)
            assert response.status_code == 200
            assert "pip install 'eligibility[api]'" in response.text
