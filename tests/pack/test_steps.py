"""Titled calculation steps in rule files: the long `let:` form, the amount's sources,
the names a case may expect, and `check`'s warning about untitled amount steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from eligibility import PackError, RulePack, load_pack
from eligibility.pack.lint import amount_steps, untitled_amount_steps

Copier = Callable[..., Path]

LONG_TAK = """  tak:
    value: param(bostotte.tak, min(criteria.husstand, 3))
    title: {nb: "Boutgiftstak", nn: "Buutgiftstak", en: "Cap on housing costs"}
    unit: NOK/year
    source: {ref: "Forskrift om bustøtte § 3"}
"""
SHORT_TAK = "  tak: param(bostotte.tak, min(criteria.husstand, 3))\n"


def test_short_lets_have_untitled_steps_with_the_inferred_unit(mini_pack: RulePack) -> None:
    m = mini_pack.measure("bostotte")
    assert [s.name for s in m.steps] == ["inntekt_aar", "tak", "egenandel", "amount"]
    tak = m.step("tak")
    assert tak is not None and tak.title is None and tak.unit == "NOK/year"
    assert tak.mark.file.endswith("bostotte.yaml") and tak.mark.line == 8


def test_long_let_form_carries_title_unit_and_source(pack_copy: Copier) -> None:
    pack = load_pack(pack_copy({"measures/bostotte.yaml": [(SHORT_TAK, LONG_TAK)]}))
    m = pack.measure("bostotte")
    tak = m.step("tak")
    assert tak is not None and tak.title is not None
    assert (tak.title.get("nb"), tak.title.get("nn"), tak.title.get("en")) == (
        "Boutgiftstak", "Buutgiftstak", "Cap on housing costs")
    assert [s.ref for s in tak.sources] == ["Forskrift om bustøtte § 3"]
    # the long form is the same expression as the short one
    assert dict(m.lets)["tak"].text.strip() == "param(bostotte.tak, min(criteria.husstand, 3))"


def test_nynorsk_falls_back_to_bokmal(pack_copy: Copier) -> None:
    pack = load_pack(pack_copy({"measures/bostotte.yaml": [
        (SHORT_TAK, LONG_TAK.replace(' nn: "Buutgiftstak",', ""))]}))
    tak = pack.measure("bostotte").step("tak")
    assert tak is not None and tak.title is not None and tak.title.get("nn") == "Boutgiftstak"


def test_declared_step_unit_must_match_the_expression(pack_copy: Copier) -> None:
    path = pack_copy({"measures/bostotte.yaml": [
        (SHORT_TAK, LONG_TAK.replace("unit: NOK/year", "unit: NOK/month"))]})
    with pytest.raises(PackError) as info:
        load_pack(path)
    (d,) = info.value.diagnostics
    assert "`tak` gives [NOK/year] but is declared in [NOK/month]" in d.message
    assert d.file.endswith("measures/bostotte.yaml") and d.line == 9


def test_unknown_key_in_a_long_let_is_an_error(pack_copy: Copier) -> None:
    path = pack_copy({"measures/bostotte.yaml": [
        (SHORT_TAK, LONG_TAK.replace("unit: NOK/year", "units: NOK/year"))]})
    with pytest.raises(PackError) as info:
        load_pack(path)
    assert any("units" in d.message for d in info.value.diagnostics)


def test_amount_takes_a_title_and_sources(pack_copy: Copier) -> None:
    pack = load_pack(pack_copy({"measures/bostotte.yaml": [(
        "amount:\n  unit: NOK/month",
        "amount:\n  title: {nb: Bostøtte per måned, en: Housing allowance per month}\n"
        "  source: {ref: \"Forskrift om bustøtte § 1\"}\n  unit: NOK/month")]}))
    step = pack.measure("bostotte").step("amount")
    assert step is not None and step.title is not None and step.title.en.startswith("Housing")
    assert [s.ref for s in step.sources] == ["Forskrift om bustøtte § 1"]


def test_check_warns_about_each_untitled_amount_step(mini_pack: RulePack,
                                                     pack_copy: Copier) -> None:
    assert amount_steps(mini_pack.measure("bostotte")) == [
        "inntekt_aar", "tak", "egenandel", "amount"]
    warnings = untitled_amount_steps(mini_pack)
    names = [w.message.split(": ", 1)[1].split(" is ")[0] for w in warnings
             if "'bostotte'" in w.message]
    assert names == ["the `let` value 'inntekt_aar'", "the `let` value 'tak'",
                     "the `let` value 'egenandel'", "the amount"]
    assert all(w.code == "warning" for w in warnings)
    titled = load_pack(pack_copy({"measures/bostotte.yaml": [(SHORT_TAK, LONG_TAK)]}))
    assert "'tak'" not in " ".join(w.message for w in untitled_amount_steps(titled))


def test_case_may_expect_only_steps_that_exist(pack_copy: Copier) -> None:
    path = pack_copy({"cases/enslig.yaml": [(
        "bostotte: {status: eligible, amount: 983}",
        "bostotte: {status: eligible, amount: 983, steps: {egenandell: 44000}}")]})
    with pytest.raises(PackError) as info:
        load_pack(path, full=True)  # cases are read by `check` (and on first use)
    (d,) = info.value.diagnostics
    assert "unknown calculation step 'egenandell' of measure 'bostotte'" in d.message
    assert d.hint == "did you mean 'egenandel'?"


def test_long_let_errors_name_the_let_and_the_key(pack_copy: Copier) -> None:
    path = pack_copy({"measures/bostotte.yaml": [(
        SHORT_TAK, "  tak:\n    valeu: param(bostotte.tak, 1)\n  liste: [1, 2]\n")]})
    with pytest.raises(PackError) as info:
        load_pack(path)
    messages = sorted((d.line, d.message, d.hint) for d in info.value.diagnostics)
    assert messages == [
        (9, "missing required key 'let.tak.value'", None),
        (9, "unknown key 'valeu'", "did you mean 'value'?"),
        (10, "let.liste: Value error, expected an expression (text)", None),
    ]
