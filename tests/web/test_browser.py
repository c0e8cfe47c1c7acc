"""The caseworker page and /rules in a real browser (Playwright driving Debian's chromium).

One server and one browser for the whole module; each test opens a fresh context (so
the token is asked again) and checks what a caseworker sees against the engine's own
answer for the same facts, then runs axe-core: no serious or critical WCAG 2.1 A/AA
violation on any page or state tested. Screenshots land in test-artifacts/web/.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eligibility.engine import Engine
from eligibility.pack.loader import load_pack
from eligibility.web.texts import UI
from eligibility.whatif import what_if
from tests.web.conftest import ROOT, TOKEN, assert_accessible, screenshot

FIXTURE = ROOT / "fixtures" / "familie-utkastelse.yaml"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack(ROOT / "rules" / "no"))


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    from eligibility.pack.yamlio import load_yaml_text, plain
    return plain(load_yaml_text(FIXTURE.read_text(encoding="utf-8"), str(FIXTURE)))


def open_page(page: Any, lang: str = "nb") -> None:
    page.goto(f"/?lang={lang}")
    # the service has a token: the page asks for it once, before anything is sent
    page.wait_for_selector("#token-panel:not([hidden])")
    page.fill("#token-input", TOKEN)
    page.press("#token-input", "Enter")
    page.wait_for_selector("#token-panel[hidden]", state="attached")


def load_fixture(page: Any, path: Path = FIXTURE) -> None:
    page.set_input_files("#upload-file", str(path))
    page.wait_for_selector("#decision article.measure")


def statuses(page: Any) -> dict[str, str]:
    return {el.get_attribute("id").removeprefix("measure-"): el.get_attribute("data-status")
            for el in page.query_selector_all("#decision article.measure")}


def test_fixture_shows_the_engines_decision(page: Any, engine: Engine,
                                            facts: dict[str, Any]) -> None:
    open_page(page)
    load_fixture(page)
    expected = engine.evaluate(facts, as_of=date.today(), lang="nb")
    assert statuses(page) == {m.id: m.status for m in expected.measures}
    bostotte = expected.measure("bostotte")
    card = page.locator("#measure-bostotte")
    assert card.locator(".amount").get_attribute("data-amount") == str(bostotte.amount)
    # every requirement with its outcome word and its legal source as a link
    rows = card.locator("tr[data-requirement]")
    assert rows.count() == len(bostotte.reasons)
    for reason in bostotte.reasons:
        row = card.locator(f"tr[data-requirement='{reason.requirement}']")
        assert row.get_attribute("data-outcome") == reason.outcome
        assert row.locator(".outcome").inner_text() == UI["nb"][f"outcome.{reason.outcome}"]
        linked = [s for s in reason.sources if s.url]
        if linked:
            assert row.locator("a").first.get_attribute("href") == linked[0].url
    # an exception that applied is named (startlån: savings waived for families)
    waived = [(m.id, r) for m in expected.measures for r in m.reasons if r.exception_title]
    assert waived, "the fixture exercises an exception"
    mid, reason = waived[0]
    assert reason.exception_title in page.locator(
        f"#measure-{mid} tr[data-requirement='{reason.requirement}']").inner_text()
    # the amount's calculation steps, and the questions (the one settling most first)
    page.click("#measure-bostotte .calculation summary")
    steps = [s.name for s in bostotte.calculation or []]
    assert [el.get_attribute("data-step") for el in
            card.locator("tr[data-step]").element_handles()] == steps
    questions = [el.get_attribute("data-path")
                 for el in page.query_selector_all(".questions-list li")]
    assert questions == [q.path for q in expected.missing_facts[:8]]
    prov = page.locator(".provenance").inner_text()
    assert expected.provenance.content_hash in prov
    assert page.console_errors == []
    assert_accessible(page)
    screenshot(page, "page-decision")


def test_changing_a_fact_shows_the_difference(page: Any, engine: Engine,
                                              facts: dict[str, Any]) -> None:
    open_page(page)
    load_fixture(page)
    changed = what_if(engine, facts, {"members[0].income_month": "90000"}, date.today())
    expected = {d.id for d in changed.changed()}
    assert expected, "the change matters for some measure"
    page.fill("#f-members-0-income_month", "90000")
    page.press("#f-members-0-income_month", "Tab")  # a change event, as a keyboard user
    page.wait_for_selector("#changes")
    shown = {el.get_attribute("data-measure") for el in page.query_selector_all("#changes li")}
    assert shown == expected
    assert statuses(page) == {m.id: m.status for m in changed.variant.measures}
    assert_accessible(page)
    screenshot(page, "page-changed")
    # a fact taken away: the questions worth asking, the one settling most first
    page.fill("#f-housing-cost_month", "")
    page.press("#f-housing-cost_month", "Tab")
    page.wait_for_selector(".questions-list li")
    gone = what_if(engine, facts, {"members[0].income_month": "90000",
                                   "housing.cost_month": ""}, date.today())
    asked = [el.get_attribute("data-path")
             for el in page.query_selector_all(".questions-list li")]
    assert asked == [q.path for q in gone.variant.missing_facts[:8]]
    assert "housing.cost_month" in asked
    page.click(".questions-list li a[href='#f-housing-cost_month']")
    assert page.evaluate("document.activeElement.id") == "f-housing-cost_month"


def test_add_and_remove_a_member(page: Any, facts: dict[str, Any]) -> None:
    open_page(page)
    load_fixture(page)
    n = len(facts["members"])
    assert page.locator("fieldset.member").count() == n
    # keyboard only: focus the button and press Enter
    page.focus("#add-member")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#member-{n}")
    assert page.locator("fieldset.member").count() == n + 1
    page.select_option(f"#f-members-{n}-role", "child")
    page.fill(f"#f-members-{n}-age", "1")
    page.press(f"#f-members-{n}-age", "Tab")
    page.wait_for_selector("#changes")
    # the earlier members' values survive the re-rendered form
    assert page.input_value("#f-members-0-income_month") == "26000"
    page.click(f"#member-{n} button")
    page.wait_for_selector(f"#member-{n}", state="detached")
    assert page.locator("fieldset.member").count() == n
    assert page.input_value(f"#f-members-{n - 1}-age") == str(facts["members"][-1]["age"])
    assert_accessible(page)


def test_whatif_whynot_and_sweep(page: Any, engine: Engine, facts: dict[str, Any]) -> None:
    open_page(page)
    load_fixture(page)
    page.click("#tool-whatif summary")
    page.select_option("#whatif_path", "housing.cost_month")
    page.fill("#whatif_value", "9000")
    page.click("#tool-whatif button")
    page.wait_for_selector(".whatif-table")
    result = what_if(engine, facts, {"housing.cost_month": "9000"}, date.today())
    marked = {el.get_attribute("data-measure")
              for el in page.query_selector_all(".whatif-table tr[data-changed]")}
    assert marked == {d.id for d in result.changed()}
    page.click("#tool-whynot summary")
    page.click("#tool-whynot button")
    page.wait_for_selector("#whynot-result section.whynot")
    from eligibility.explain.whynot import why_not
    wn = why_not(engine, facts, date.today(), "nb")
    assert {el.get_attribute("data-measure") for el in
            page.query_selector_all("#whynot-result section.whynot")} == {m.id for m in
                                                                          wn.measures}
    first = next(m for m in wn.measures if m.thresholds)
    assert first.thresholds[0].message in page.locator(
        f"#whynot-result section[data-measure='{first.id}']").inner_text()
    page.click("#tool-sweep summary")
    page.select_option("#sweep_path", "housing.cost_month")
    page.fill("#sweep_from", "0")
    page.fill("#sweep_to", "40000")
    page.click("#tool-sweep button")
    page.wait_for_selector("#sweep-result svg.sweep-chart")
    cells = page.locator("#sweep-result rect[data-status]").count()
    measures = len(engine.evaluate(facts, as_of=date.today()).measures)
    assert cells == measures * 41  # 0..40000 in steps of 1000
    from eligibility.sweep import sweep
    expected = sweep(engine, facts, "housing.cost_month", Decimal(0), Decimal(40000),
                     Decimal(1000), date.today(), "nb")
    assert expected.cliffs, "the range crosses a threshold"
    assert [el.inner_text() for el in page.query_selector_all("#sweep-result .cliffs li")] \
        == [c.message for c in expected.cliffs]
    assert_accessible(page)
    screenshot(page, "page-tools")


def test_print_view(page: Any, engine: Engine, facts: dict[str, Any]) -> None:
    open_page(page)
    load_fixture(page)
    page.click("#tool-print summary")
    page.click("#tool-print button")
    page.wait_for_selector("#print-view")
    text = page.input_value("#justification")
    decision = engine.evaluate(facts, as_of=date.today())
    for m in decision.measures:
        assert m.title in text
    assert decision.provenance.content_hash[:16] in text
    assert decision.provenance.content_hash in page.locator("#print-view").inner_text()
    page.emulate_media(media="print")
    assert not page.locator("#household").is_visible()
    assert page.locator("#justification").is_visible()
    screenshot(page, "page-print")
    page.emulate_media(media="screen")
    assert_accessible(page)


def test_language_switch(page: Any, engine: Engine) -> None:
    open_page(page, "nb")
    load_fixture(page)
    for lang in ("nn", "en", "nb"):
        page.click(f".lang-switch a[hreflang='{lang}']")
        page.wait_for_selector(f"html[lang='{lang}']")
        page.wait_for_selector("#token-panel", state="attached")
        assert page.locator("#form-title").inner_text() == UI[lang]["form.title"]
        load_fixture(page)
        decision = engine.evaluate(
            {"household": {"lawful_residence": True}}, as_of=date.today(), lang=lang)
        title = page.locator("#measure-bostotte-title")
        assert title.inner_text() == decision.measure("bostotte").title
        # rules/no has every fact label and requirement title in nynorsk too: nothing
        # falls back to bokmål (a pack without nynorsk: tests/web/test_web.py)
        label = page.locator("label[for='f-household-lawful_residence']")
        field = engine.pack.schema.field("household.lawful_residence")
        assert field is not None
        assert label.get_attribute("lang") is None
        assert label.inner_text().startswith(field.title.get(lang))
        assert page.query_selector_all("[data-fallback]") == []
        assert_accessible(page)
        screenshot(page, f"page-{lang}")


def test_rules_for_every_measure(page: Any, engine: Engine) -> None:
    pack = engine.pack
    page.goto("/rules/")
    assert_accessible(page)
    screenshot(page, "rules-index")
    hrefs = [a.get_attribute("href") for a in page.query_selector_all(".measure-index a")]
    assert [h.split(".html")[0] for h in hrefs] == [m.id for m in pack.measures]
    for m in pack.measures:
        page.goto(f"/rules/{m.id}.html")
        assert page.locator("h1").inner_text().startswith(m.title.nb)
        published = [el.get_attribute("data-requirement")
                     for el in page.query_selector_all("li[data-requirement]")]
        assert published == [r.id for r in m.requirements]
        discretionary = {el.get_attribute("data-requirement")
                         for el in page.query_selector_all("li[data-discretionary]")}
        assert discretionary == {r.id for r in m.requirements if r.discretionary}
        if m.amount is not None:
            assert page.locator("table.formula tr[data-step='amount']").count() == 1
        cases = {el.get_attribute("data-case") for el in page.query_selector_all("tr[data-case]")}
        assert cases == {c.name for c in pack.cases if m.id in c.expect_measures}
        assert_accessible(page)
    page.goto("/rules/bostotte.html?lang=nn")
    assert page.locator("html").get_attribute("lang") == "nn"
    assert page.locator("h1").inner_text() == pack.measure("bostotte").title.nn
    screenshot(page, "rules-bostotte-nn")


def test_wrong_token_is_asked_again_and_focus_is_visible(page: Any) -> None:
    page.goto("/?lang=en")
    page.wait_for_selector("#token-panel:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "token-input"
    page.keyboard.type("not-the-token")
    page.keyboard.press("Enter")
    page.set_input_files("#upload-file", str(FIXTURE))
    page.wait_for_selector("#token-error:not([hidden])")  # the 401 asks again
    assert page.locator("#decision article.measure").count() == 0
    page.fill("#token-input", TOKEN)
    page.keyboard.press("Enter")  # resends the file with the right token
    page.wait_for_selector("#decision article.measure")
    # keyboard only: Tab moves from the file input to the date, with a visible outline
    page.focus("#upload-file")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "as_of"
    style = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                          "return [s.outlineStyle, s.outlineWidth]; })()")
    assert style == ["solid", "3px"]


def test_facts_with_sources_confirm_and_change(page: Any, engine: Engine) -> None:
    """A file with sources and dated values: each fact's source and dated values in the
    form, the facts to confirm in the decision; confirming one empties the list without
    changing an outcome, changing a value makes it the caseworker's own; a new date shows
    the value in force on it."""
    from eligibility.pack.yamlio import load_yaml_text, plain
    over_time = ROOT / "fixtures" / "over-time" / "enslig-oslo-inntekt-endres.yaml"
    given = plain(load_yaml_text(over_time.read_text(encoding="utf-8"), str(over_time)))
    expected = engine.evaluate(given, as_of=date.today(), lang="en")
    open_page(page, "en")
    load_fixture(page, over_time)
    income = "#f-members-0-income_month"
    assert page.input_value(income) == "24000"  # the value in force today, not the list
    assert page.locator(f"{income}-given").get_attribute("data-source") == "applicant"
    page.click(f"{income}-given summary")
    assert [el.get_attribute("data-from") for el in
            page.query_selector_all(f"{income}-given li")] == ["2025-01-01", "2025-09-01"]
    assert [el.get_attribute("data-path") for el in
            page.query_selector_all("#confirm li")] == \
        [c.path for c in expected.confirm_before_deciding or []]
    assert statuses(page) == {m.id: m.status for m in expected.measures}
    page.click("#confirm li a")  # the item leads to its checkbox
    assert page.evaluate("document.activeElement.id") == "f-members-0-income_month-confirmed"
    page.keyboard.press("Space")
    page.wait_for_selector("#confirm li", state="detached")
    assert UI["en"]["decision.no_confirm"] in page.locator("#confirm").inner_text()
    assert statuses(page) == {m.id: m.status for m in expected.measures}
    page.fill(income, "20000")
    page.press(income, "Tab")
    page.wait_for_selector(f"{income}-given[data-source='caseworker']")
    assert page.is_checked(f"{income}-confirmed")
    variant = what_if(engine, given, {"members[0].income_month": "20000"}, date.today())
    page.wait_for_function(
        "a => document.querySelector('#measure-bostotte .amount')?.dataset.amount === a",
        arg=str(variant.variant.measure("bostotte").amount))
    assert statuses(page) == {m.id: m.status for m in variant.variant.measures}
    # a new assessment date: the field shows the value in force on it
    page.fill("#as_of", "2025-05-01")
    page.wait_for_function("() => document.querySelector("
                           "'#f-members-0-income_month').value === '18000'")
    assert page.locator(f"{income}-given").get_attribute("data-source") == "a-ordningen"
    assert page.console_errors == []
    assert_accessible(page)
    screenshot(page, "page-confirm")
