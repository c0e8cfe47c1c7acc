"""The page's server side without a browser: form round trip, texts, headers, token, site.

Fast checks of what the browser tests build on: the form generated from the schema reads
back into the same facts; bad values become messages on their field; every page text and
engine message exists in nb, nn and en; every HTML response has the CSP; the fragments
refuse a missing token when one is configured while the shell and /rules stay open;
``eligibility doc`` writes a static site that loads nothing from another origin.
"""

from __future__ import annotations

import hashlib
import html
import re
import string
from datetime import date
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


# -- facts given with sources and dated values ------------------------------------------

OVER_TIME = ROOT / "fixtures" / "over-time" / "enslig-oslo-inntekt-endres.yaml"
AS_OF = "2025-10-01"  # the applicant's unconfirmed income (from 2025-09-01) is in force
INCOME = "members[0].income_month"
AUTH = {"authorization": "Bearer secret"}


@pytest.fixture(scope="module")
def over_time() -> dict[str, Any]:
    return plain(load_yaml_text(OVER_TIME.read_text(encoding="utf-8"), str(OVER_TIME)))


def _submitted(page: str) -> dict[str, str]:
    """What a browser submits from ``page``: inputs (checkboxes only when checked, the
    last of one name winning as in the page's parser) and selected options, unescaped."""
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or ('type="checkbox"' in tag and " checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page,
                                 re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        data[html.unescape(name)] = chosen.group(1) if chosen else ""
    return data


def _upload(client: TestClient, path: Path, lang: str = "nb") -> str:
    r = client.post("/ui/form", data={"lang": lang, "as_of": AS_OF, "pack": "no",
                                      "upload_text": path.read_text(encoding="utf-8"),
                                      "upload_name": path.name}, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.text


def _form_of(fragment: str, lang: str = "nb") -> dict[str, str]:
    """The form a browser submits after ``fragment`` was swapped into the page shell."""
    data = _submitted(fragment)
    data.update(lang=lang, pack="no", upload_text="", upload_name="", previous="")
    return data


def _shown_decision(fragment: str) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for article in re.findall(r'<article class="ds-card measure.*?</article>', fragment, re.S):
        mid = re.search(r'id="measure-([a-z_]+)"', article)
        status = re.search(r'data-status="([a-z_]+)"', article)
        amount = re.search(r'data-amount="([^"]+)"', article)
        assert mid and status
        out[mid.group(1)] = (status.group(1), amount.group(1) if amount else None)
    return out


def _confirm_paths(fragment: str) -> list[str]:
    section = re.search(r'<section class="confirm".*?</section>', fragment, re.S)
    assert section, "the decision has a confirm-before-deciding section"
    return re.findall(r'<li data-path="([^"]+)"', section.group(0))


def test_upload_with_sources_and_dates_decides_like_the_engine(
        client: TestClient, pack: Any, over_time: dict[str, Any]) -> None:
    engine = Engine(pack)
    expected = engine.evaluate(over_time, as_of=AS_OF)
    fragment = _upload(client, OVER_TIME)
    # the field shows the value in force on the date, not the wrapper's text
    data = _form_of(fragment)
    assert data[INCOME] == "24000"
    assert data["housing.cost_month"] == "13000"
    assert 'id="f-members-0-income_month-given"' in fragment
    assert "form-errors" not in fragment
    assert _shown_decision(fragment) == {m.id: (m.status, None if m.amount is None
                                                else str(m.amount)) for m in expected.measures}
    assert _confirm_paths(fragment) == [c.path for c in expected.confirm_before_deciding or []]
    assert _confirm_paths(fragment) == [INCOME]
    # submitting the form as drawn gives the same decision, with no field errors
    r = client.post("/ui/decision", data=data, headers=AUTH)
    assert r.status_code == 200
    assert "form-errors" not in r.text
    assert _shown_decision(r.text) == _shown_decision(fragment)
    assert _confirm_paths(r.text) == [INCOME]


def test_source_and_dated_values_shown_per_fact(client: TestClient) -> None:
    fragment = _upload(client, OVER_TIME, "en")
    block = re.search(r'<div class="given" id="f-members-0-income_month-given".*?</details>',
                      fragment, re.S)
    assert block
    text = block.group(0)
    assert UI["en"]["form.source"].format(source="applicant") in text
    assert 'id="f-members-0-income_month-confirmed"' in text and " checked" not in text
    dated = re.findall(r'<li data-from="([0-9-]+)"( data-current="true")?>', text)
    assert dated == [("2025-01-01", ""), ("2025-09-01", ' data-current="true"')]
    cost = re.search(r'<div class="given" id="f-housing-cost_month-given".*?</div>\s*</div>',
                     fragment, re.S)
    assert cost and "caseworker" in cost.group(0) and " checked" in cost.group(0)
    assert "data-dated" not in cost.group(0)
    # a plain value keeps a plain field: no provenance shown, nothing to confirm
    assert 'id="f-housing-rooms-given"' not in fragment
    plain_page = _upload(client, FIXTURE)
    assert 'class="given"' not in plain_page and 'class="confirm"' not in plain_page


def test_provenance_round_trips_through_the_form(pack: Any, over_time: dict[str, Any]) -> None:
    engine = Engine(pack)
    when = date.fromisoformat(AS_OF)
    sources = pack.meta.fact_sources
    blocks = forms.form_groups(pack.schema, over_time, "nb", as_of=when, sources=sources)
    data = _submitted(_render_fields(blocks))
    read = forms.read_form(pack.schema, data, when, sources)
    assert read.errors == {} and read.edited == set()
    assert _by_path(engine, read.facts) == _by_path(engine, over_time)
    assert len(_by_path(engine, over_time)) == 2
    # ticking "confirmed" confirms the value in force on the date, and only that
    read = forms.read_form(pack.schema, {**data, f"confirmed:{INCOME}": "true"}, when, sources)
    assert [(g.value, g.source, g.confirmed) for g in
            _by_path(engine, read.facts)[INCOME].values] == [
        (18000, "a-ordningen", True), (24000, "applicant", True)]
    assert engine.evaluate(read.facts, as_of=when).confirm_before_deciding == []
    # a changed value becomes the caseworker's own, confirmed, from the assessment date on
    read = forms.read_form(pack.schema, {**data, INCOME: "25000",
                                         "housing.cost_month": "12000"}, when, sources)
    assert read.edited == {INCOME, "housing.cost_month"}
    members = read.facts["members"][0]["income_month"]
    assert [(e["from"], e["value"], e.get("source"), e.get("confirmed")) for e in members] == [
        (date(2025, 1, 1), 18000, "a-ordningen", True),
        (date(2025, 9, 1), 24000, "applicant", False),
        (when, 25000, "caseworker", True)]
    assert read.facts["housing"]["cost_month"] == {"value": 12000, "source": "caseworker",
                                                   "confirmed": True}
    decided = engine.evaluate(read.facts, as_of=when)
    assert decided.confirm_before_deciding == []
    assert decided.measure("bostotte").amount != \
        engine.evaluate(over_time, as_of=when).measure("bostotte").amount
    # an emptied field is a fact not given; a damaged record is an error on its field
    read = forms.read_form(pack.schema, {**data, "housing.cost_month": ""}, when, sources)
    assert "cost_month" not in read.facts["housing"]
    read = forms.read_form(pack.schema, {**data, f"given:{INCOME}": "{not json"}, when,
                           sources)
    assert set(read.errors) == {INCOME}
    # hidden inputs naming no fact are ignored, like any unknown name
    junk = {"given:???": "[]", "given:members[a].age": "{}", "given:housing.nope": "{}"}
    assert forms.read_form(pack.schema, junk, when, sources).facts == {}


def _by_path(engine: Engine, facts: dict[str, Any]) -> dict[str, Any]:
    return {f.path: f for f in engine.given(facts).special}


def _render_fields(blocks: list[forms.FormBlock]) -> str:
    from eligibility.web.site import common, environment

    env = environment()
    template = env.from_string('{% for b in blocks %}{% for f in b.fields %}'
                               '{% include "_field.html" %}{% endfor %}{% endfor %}')
    return template.render(blocks=blocks, **common("nb"))


@pytest.mark.parametrize("lang", LANGS)
def test_confirm_then_change_updates_the_decision(client: TestClient, pack: Any,
                                                  lang: str) -> None:
    fragment = _upload(client, OVER_TIME, lang)
    assert UI[lang]["decision.confirm"] in fragment
    assert f'href="#{forms.input_id(INCOME)}-confirmed"' in fragment
    data = _form_of(fragment, lang)
    confirmed = client.post("/ui/decision", data={**data, f"confirmed:{INCOME}": "true"},
                            headers=AUTH)
    assert _confirm_paths(confirmed.text) == []
    assert UI[lang]["decision.no_confirm"] in confirmed.text
    # confirming changes no outcome
    assert _shown_decision(confirmed.text) == _shown_decision(fragment)
    changed = client.post("/ui/decision", data={**data, INCOME: "30000"}, headers=AUTH)
    assert _confirm_paths(changed.text) == []
    # the field's provenance is swapped in anew: now the caseworker's, confirmed
    oob = re.search(r'<div class="given" id="f-members-0-income_month-given" '
                    r'hx-swap-oob="true" data-source="caseworker".*?</div>', changed.text, re.S)
    assert oob and " checked" in oob.group(0)
    # and the next submission of the page carries the caseworker's value
    again = {**data, **_submitted(oob.group(0)), INCOME: "30000"}
    r = client.post("/ui/decision", data=again, headers=AUTH)
    assert _shown_decision(r.text) == _shown_decision(changed.text)
    assert "form-errors" not in r.text


def test_print_view_lists_what_to_confirm(client: TestClient) -> None:
    data = _form_of(_upload(client, OVER_TIME, "en"), "en")
    r = client.post("/ui/print", data=data, headers=AUTH)
    assert r.status_code == 200
    assert f'<li data-path="{INCOME}">' in r.text
    assert UI["en"]["decision.confirm"] in r.text
    # the facts as decided on the date: plain values, not the wrappers
    assert re.search(r"<code>members\[0\]\.income_month</code></th><td>24000</td>", r.text)


def test_bad_wrapper_in_a_file_names_the_fact(client: TestClient) -> None:
    r = client.post("/ui/form", data={"lang": "en", "upload_name": "bad.yaml",
                                      "upload_text": "housing:\n  cost_month: {value: 9000, "
                                                     "source: neighbour}\n"}, headers=AUTH)
    assert r.status_code == 200
    assert "bad.yaml: housing.cost_month.source" in r.text
    assert "neighbour" in r.text
