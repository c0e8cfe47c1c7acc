"""The page's server side without a browser: form round trip, texts, headers, token, site.

Fast checks of what the browser tests build on: the form generated from the schema reads
back into the same facts; bad values become messages on their field; every page text and
engine message exists in nb, nn and en; every HTML response has the CSP; the fragments
refuse a missing token when one is configured while the shell and /rules stay open;
``eligibility doc`` writes a static site that loads nothing from another origin.
"""

from __future__ import annotations

import hashlib
import re
import string
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from eligibility.api import create_app
from eligibility.api.settings import Settings
from eligibility.cli import app as cli_app
from eligibility.engine import Engine
from eligibility.explain.messages import CATALOG
from eligibility.pack.loader import load_pack
from eligibility.pack.yamlio import load_yaml_text, plain
from eligibility.web import forms
from eligibility.web.routes import CSP
from eligibility.web.texts import LANGS, UI

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "familie-utkastelse.yaml"


@pytest.fixture(scope="module")
def pack() -> Any:
    return load_pack(ROOT / "rules" / "no")


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return plain(load_yaml_text(FIXTURE.read_text(encoding="utf-8"), str(FIXTURE)))


@pytest.fixture(scope="module")
def client(pack: Any) -> TestClient:
    return TestClient(create_app([pack], Settings(api_token="secret")))


def _inputs(html: str) -> dict[str, str]:
    """The values a browser would submit from a rendered form fragment."""
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html,
                                 re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        data[name] = chosen.group(1) if chosen else ""
    return data


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_form_round_trip(pack: Any, facts: dict[str, Any]) -> None:
    env_facts = Engine(pack).validate(facts).flat
    blocks = forms.form_groups(pack.schema, facts, "nb")
    data = {f.name: f.value for b in blocks for f in b.fields}
    read = forms.read_form(pack.schema, data)
    assert read.errors == {}
    assert Engine(pack).validate(read.facts).flat == env_facts


def test_bad_value_is_an_error_on_its_field(pack: Any) -> None:
    read = forms.read_form(pack.schema, {"housing.cost_month": "lots",
                                         "members[0].age": "-3", "members[0].role": "child"})
    assert set(read.errors) == {"housing.cost_month", "members[0].age"}
    assert "housing.cost_month" in read.errors["housing.cost_month"]
    assert read.facts == {"members": [{"role": "child"}]}


def test_empty_fields_are_not_given(pack: Any) -> None:
    read = forms.read_form(pack.schema, {"housing.cost_month": " ", "household.x": "1",
                                         "members[0]._present": "1"})
    assert read.facts == {"members": [{}]}


def test_every_text_in_every_language() -> None:
    for lang in LANGS:
        assert set(UI[lang]) == set(UI["nb"]), lang
        for key, text in UI["nb"].items():
            assert _placeholders(UI[lang][key]) == _placeholders(text), (lang, key)
    assert set(CATALOG) == {"nb", "nn", "en"}
    for lang in CATALOG:
        assert set(CATALOG[lang]) == set(CATALOG["nb"]), lang
        for key, text in CATALOG["nb"].items():
            assert _placeholders(CATALOG[lang][key]) == _placeholders(text), (lang, key)


def test_decision_in_nynorsk(pack: Any, facts: dict[str, Any]) -> None:
    decision = Engine(pack).evaluate(facts, lang="nn")
    assert decision.lang == "nn"
    bostotte = decision.measure("bostotte")
    assert bostotte.title == "Bustøtte"
    assert bostotte.summary.startswith(("Oppfyller vilkåra", "Ikkje oppfylt", "Manglar",
                                        "Må vurderast"))


def test_cli_lang_nn(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["evaluate", str(FIXTURE), "--lang", "nn", "--json"])
    assert result.exit_code == 0, result.output
    assert '"lang": "nn"' in result.output
    bad = CliRunner().invoke(cli_app, ["evaluate", str(FIXTURE), "--lang", "se"])
    assert bad.exit_code == 2
    assert "nb, nn or en" in bad.output


def test_shell_and_rules_open_fragments_need_the_token(client: TestClient) -> None:
    for url in ("/", "/rules/", "/rules/startlan.html", "/rules/startlan.html?lang=nn"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-security-policy"] == CSP
        assert "<script>" not in r.text and " on" + "click=" not in r.text
    r = client.post("/ui/decision", content="lang=nb",
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = client.post("/ui/decision", content="lang=nb&housing.cost_month=abc",
                    headers={"content-type": "application/x-www-form-urlencoded",
                             "authorization": "Bearer secret"})
    assert r.status_code == 200
    assert 'href="#f-housing-cost_month"' in r.text  # the error, linked to its field


def test_upload_fills_the_form(client: TestClient, facts: dict[str, Any], pack: Any) -> None:
    r = client.post("/ui/form", data={"lang": "nb", "upload_text": FIXTURE.read_text(),
                                      "upload_name": FIXTURE.name},
                    headers={"authorization": "Bearer secret"})
    assert r.status_code == 200
    read = forms.read_form(pack.schema, _inputs(r.text))
    assert read.errors == {}
    engine = Engine(pack)
    assert engine.validate(read.facts).flat == engine.validate(facts).flat
    bad = client.post("/ui/form", data={"lang": "nb", "upload_text": "a: [1,",
                                        "upload_name": "bad.yaml"},
                      headers={"authorization": "Bearer secret"})
    assert bad.status_code == 200
    assert "bad.yaml" in bad.text


def test_unknown_measure_page_is_404(client: TestClient) -> None:
    r = client.get("/rules/nope.html")
    assert r.status_code == 404
    assert "startlan" in r.text


def test_doc_writes_a_static_site(tmp_path: Path, pack: Any) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli_app, ["doc", str(ROOT / "rules" / "no"), str(out)])
    assert result.exit_code == 0, result.output
    for lang in LANGS:
        for m in pack.measures:
            page = out / lang / f"{m.id}.html"
            text = page.read_text(encoding="utf-8")
            assert f'<html lang="{lang}"' in text
            # stylesheets and scripts come from the site itself, never another origin
            for ref in re.findall(r'<(?:link|script)[^>]*(?:src|href)="([^"]+)"', text):
                assert not ref.startswith(("http:", "https:", "//")), (page, ref)
                if not ref.startswith("data:"):
                    assert (page.parent / ref).resolve().is_file(), (page, ref)
    assert "<script" not in (out / "nb" / "index.html").read_text(encoding="utf-8")
    # rules/no promises nynorsk (pack.yaml's languages): no text falls back to bokmål
    for page in (out / "nn").glob("*.html"):
        assert 'data-fallback="nb"' not in page.read_text(encoding="utf-8"), page
    # a pack without nynorsk shows its titles in bokmål, marked
    mini = tmp_path / "mini-site"
    result = CliRunner().invoke(cli_app, ["doc", str(ROOT / "tests" / "packs" / "mini"),
                                          str(mini)])
    assert result.exit_code == 0, result.output
    nn_index = (mini / "nn" / "index.html").read_text(encoding="utf-8")
    assert 'data-fallback="nb"' in nn_index
    assert UI["nn"]["rules.lang_fallback"] in nn_index


def test_the_page_asks_in_nynorsk(client: TestClient, facts: dict[str, Any]) -> None:
    page = client.get("/?lang=nn")
    assert page.status_code == 200
    assert 'data-fallback="nb"' not in page.text
    assert "Tal på rom" in page.text and "Antall rom" not in page.text
    r = client.post("/ui/form", data={"lang": "nn", "upload_text": FIXTURE.read_text(),
                                      "upload_name": FIXTURE.name},
                    headers={"authorization": "Bearer secret"})
    assert r.status_code == 200
    assert 'data-fallback="nb"' not in r.text
    assert "Buutgifter per månad" in r.text


def test_vendored_files_match_their_recorded_versions() -> None:
    vendor = ROOT / "src" / "eligibility" / "web" / "static" / "vendor"
    rows = [line.split(" | ") for line in
            (vendor / "VERSIONS.txt").read_text(encoding="utf-8").splitlines()[2:]]
    assert {r[0].rsplit("@", 1)[0] for r in rows} == {
        "htmx.org", "@digdir/designsystemet-css", "@digdir/designsystemet-theme", "axe-core"}
    for pkg, _licence, file, sha in rows:
        path = vendor / file.split(" ")[0]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, pkg
        assert any(p.name.startswith("LICENSE") for p in path.parent.iterdir()), pkg


def test_api_speaks_nynorsk(client: TestClient, facts: dict[str, Any]) -> None:
    r = client.post("/v1/packs/no/evaluate", json={"facts": facts, "lang": "nn"},
                    headers={"authorization": "Bearer secret"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lang"] == "nn"
    titles = {m["id"]: m["title"] for m in body["measures"]}
    assert titles["tilskudd_etablering"] == "Tilskot til etablering"
