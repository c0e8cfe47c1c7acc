"""End to end on the real pack, the settings from the environment, and ``eligibility serve``."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from eligibility import Engine, load_pack
from eligibility.api import Settings, SettingsError, create_app
from eligibility.cli import app as cli_app
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    """``serve`` freezes the heap of the process it runs in (see ``serve_app``); here
    that process is pytest's: give the frozen objects back to the collector."""
    yield
    gc.unfreeze()


def test_real_pack_end_to_end() -> None:
    pack = load_pack(ROOT / "rules" / "no")
    client = TestClient(create_app([pack], Settings()))
    text = (ROOT / "fixtures" / "familie-utkastelse.yaml").read_text(encoding="utf-8")
    facts = plain(load_yaml_text(text, "familie-utkastelse.yaml"))
    case = next(c for c in pack.cases if c.file.endswith("familie-utkastelse.yaml"))
    from eligibility.api.examples import to_json

    response = client.post("/v1/packs/no/evaluate", json={
        "facts": to_json(facts), "as_of": case.as_of.isoformat(), "lang": "en"})
    assert response.status_code == 200, response.text
    expected = Engine(pack).evaluate(facts, as_of=case.as_of, lang="en")
    assert response.text == expected.model_dump_json()
    body = response.json()
    for measure_id, expect in case.expect_measures.items():
        got = next(m for m in body["measures"] if m["id"] == measure_id)
        assert got["status"] == expect["status"], measure_id
    assert response.headers["X-Eligibility-Pack-Hash"] == pack.content_hash
    assert client.get("/v1/packs/no").json()["pack_version"] == pack.meta.version


def test_settings_from_environment() -> None:
    settings = Settings.from_env({
        "ELIGIBILITY_API_TOKEN": " tok ", "ELIGIBILITY_CORS_ORIGINS": "https://a.no, https://b.no",
        "ELIGIBILITY_MAX_BODY_BYTES": "2_000_000", "ELIGIBILITY_MAX_BATCH": "50",
        "ELIGIBILITY_PACKS": "no, tests/packs/mini"})
    assert settings == Settings(api_token="tok", cors_origins=("https://a.no", "https://b.no"),
                                max_body_bytes=2_000_000, max_batch=50,
                                packs=("no", "tests/packs/mini"))
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize("env", [{"ELIGIBILITY_MAX_BATCH": "many"},
                                 {"ELIGIBILITY_MAX_BODY_BYTES": "0"}])
def test_bad_settings_are_named(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_serve_starts_uvicorn_with_the_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["app"], seen["kwargs"] = app, kwargs

    monkeypatch.setattr(uvicorn, "run", fake_run)
    before = gc.get_freeze_count()
    result = CliRunner().invoke(cli_app, ["serve", "--pack", "tests/packs/mini",
                                          "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() > before  # the server's packs frozen before it runs
    assert seen["kwargs"]["port"] == 8123 and seen["kwargs"]["host"] == "127.0.0.1"
    assert seen["kwargs"]["access_log"] is False
    assert seen["kwargs"]["http"] == "eligibility.api.protocol:BoundedHttpToolsProtocol"
    client = TestClient(seen["app"])
    assert [p["pack_id"] for p in client.get("/v1/packs").json()["packs"]] == ["mini"]


@pytest.mark.parametrize("args, env, message", [
    (["serve", "--pack", "no-such-pack"], {}, "no rule pack here"),
    (["serve", "--pack", "tests/packs/mini"], {"ELIGIBILITY_MAX_BATCH": "x"},
     "ELIGIBILITY_MAX_BATCH"),
    (["serve", "--pack", "tests/packs/mini", "--pack", "tests/packs/mini"], {},
     "two packs have the id"),
    (["serve", "--pack", "tests/packs/mini", "--log-level", "loud"], {}, "--log-level"),
])
def test_serve_user_errors_are_one_paragraph(monkeypatch: pytest.MonkeyPatch, args: list[str],
                                             env: dict[str, str], message: str) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("must not start"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_serve_falls_back_to_h11_with_its_bound_without_httptools(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from eligibility.cli import serve as serve_module

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    monkeypatch.setattr(serve_module, "find_spec", lambda name: None)
    result = CliRunner().invoke(cli_app, ["serve", "--pack", "tests/packs/mini"])
    assert result.exit_code == 0, result.output
    assert seen["http"] == "h11" and seen["h11_max_incomplete_event_size"] == 16_384


def test_search_budget_setting() -> None:
    assert Settings.from_env({}).search_budget_seconds == 1.5
    assert Settings.from_env({"ELIGIBILITY_SEARCH_BUDGET": "0.25"}).search_budget_seconds == 0.25
    for bad in ("0", "-1", "x", "61"):
        with pytest.raises(SettingsError):
            Settings.from_env({"ELIGIBILITY_SEARCH_BUDGET": bad})


def test_serve_with_workers_hands_the_packs_to_each_worker(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["app"], seen["kwargs"] = app, kwargs

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("ELIGIBILITY_PACKS", "no")  # restored after the test
    result = CliRunner().invoke(cli_app, ["serve", "--pack", "tests/packs/mini",
                                          "--workers", "2", "--log-level", "warning"])
    assert result.exit_code == 0, result.output
    kwargs = seen["kwargs"]
    assert seen["app"] == "eligibility.api.app:serve_app" and kwargs["factory"] is True
    assert kwargs["workers"] == 2
    assert kwargs["http"] == "eligibility.api.protocol:BoundedHttpToolsProtocol"
    assert kwargs["log_config"]["loggers"]["eligibility.api"]["level"] == "WARNING"
    import os

    assert os.environ["ELIGIBILITY_PACKS"] == str((ROOT / "tests/packs/mini").resolve())
    # what a worker process does: the factory reads the packs from the environment
    from eligibility.api.app import serve_app as factory

    before = gc.get_freeze_count()
    try:
        client = TestClient(factory())
        # the worker's packs and app are out of the collector's sight once built
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
    assert [p["pack_id"] for p in client.get("/v1/packs").json()["packs"]] == ["mini"]
