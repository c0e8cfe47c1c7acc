"""Parameter sets (`set:`) and staleness (`confirmed_until:`): the static check that no
formula splices sets, the stale entries of a Decision, and ``check --stale-after``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from eligibility import PackError, load_pack
from eligibility.api import Settings, create_app
from eligibility.cli import app
from eligibility.cli.common import console
from eligibility.engine import Engine
from eligibility.pack.sets import set_conflicts, stale_versions
from tests.conftest import household

Copier = Callable[..., Path]

# The mini pack's bostøtte formula uses tak, egenandel, sats, dekning and minste_utbetaling.
TAK = """tak:
  unit: NOK/year
  keys: [husstand]
  source: {ref: "Forskrift om bostøtte § 3"}
  values:
    2016-01-01: {1: 60000, 2: 80000, 3: 90000}
    2024-01-01: {1: 72000, 2: 96000, 3: 108000}
"""
EGENANDEL = """egenandel:
  unit: NOK/year
  source: {ref: "Forskrift om bostøtte § 4"}
  values:
    2016-01-01: 20000
    2024-01-01: {value: 24000, unconfirmed: true, note: "test: unconfirmed version"}
"""


def tagged(tak_2024: str = "2024", egenandel_from: str = "2024-01-01") -> list[tuple[str, str]]:
    return [
        (TAK, f"""tak:
  unit: NOK/year
  keys: [husstand]
  source: {{ref: "Forskrift om bostøtte § 3"}}
  values:
    2016-01-01:
      value: {{1: 60000, 2: 80000, 3: 90000}}
      set: "2016"
      confirmed_until: 2021-12-31
    2024-01-01: {{value: {{1: 72000, 2: 96000, 3: 108000}}, set: "{tak_2024}"}}
"""),
        (EGENANDEL, f"""egenandel:
  unit: NOK/year
  source: {{ref: "Forskrift om bostøtte § 4"}}
  values:
    2016-01-01: {{value: 20000, set: "2016"}}
    {egenandel_from}: {{value: 24000, set: "2024"}}
"""),
    ]


def test_versions_of_one_set_load(pack_copy: Copier) -> None:
    pack = load_pack(pack_copy({"parameters/bostotte.yaml": tagged()}))
    tak = pack.parameters["bostotte.tak"]
    assert [v.set for v in tak.versions] == ["2016", "2024"]
    assert tak.versions[0].confirmed_until == date(2021, 12, 31)
    assert set_conflicts(pack) == []


def test_a_formula_splicing_two_sets_is_an_error(pack_copy: Copier) -> None:
    path = pack_copy({"parameters/bostotte.yaml": tagged(egenandel_from="2024-07-01")})
    with pytest.raises(PackError) as info:
        load_pack(path)
    [diag] = info.value.diagnostics
    assert diag.file.endswith("measures/bostotte.yaml")
    assert "measure bostotte combines parameter versions of different sets" in diag.message
    assert "from 2024-01-01 to 2024-06-30" in diag.message
    assert "set '2016': bostotte.egenandel" in diag.message
    assert "set '2024': bostotte.tak" in diag.message


def test_a_differently_named_set_in_the_same_period_is_an_error(pack_copy: Copier) -> None:
    path = pack_copy({"parameters/bostotte.yaml": tagged(tak_2024="2024-b")})
    with pytest.raises(PackError) as info:
        load_pack(path)
    assert "from 2024-01-01 to open" in info.value.diagnostics[0].message


def test_tagging_some_versions_of_a_parameter_only_is_an_error(pack_copy: Copier) -> None:
    path = pack_copy({"parameters/bostotte.yaml": [
        (EGENANDEL, EGENANDEL.replace('{value: 24000, unconfirmed: true',
                                      '{value: 24000, set: "2024", unconfirmed: true'))]})
    with pytest.raises(PackError) as info:
        load_pack(path)
    [diag] = info.value.diagnostics
    assert "the version of 2016-01-01 has no `set:`" in diag.message


def test_stale_versions_up_to_a_date(pack_copy: Copier) -> None:
    pack = load_pack(pack_copy({"parameters/bostotte.yaml": tagged()}))
    stale, undated = stale_versions(pack, date(2030, 1, 1))
    assert [(s.parameter, s.start, s.end) for s in stale] == [
        ("bostotte.tak", date(2022, 1, 1), date(2023, 12, 31))]
    assert "bostotte.egenandel" in undated and "bostotte.tak" in undated
    assert stale_versions(pack, date(2021, 6, 1))[0] == []


def test_a_decision_lists_a_stale_parameter_with_value_and_date(pack_copy: Copier) -> None:
    engine = Engine(load_pack(pack_copy({"parameters/bostotte.yaml": tagged()})))
    stale_day = engine.evaluate(household(), as_of=date(2023, 6, 1))
    [bostotte] = [m for m in stale_day.measures if m.id == "bostotte"]
    assert ("stale:bostotte.tak = {1: 60000, 2: 80000, 3: 90000} (confirmed until 2021-12-31)"
            in bostotte.unconfirmed)
    confirmed_day = engine.evaluate(household(), as_of=date(2021, 6, 1))
    [bostotte] = [m for m in confirmed_day.measures if m.id == "bostotte"]
    assert not [u for u in bostotte.unconfirmed if u.startswith("stale:")]


def test_check_stale_after_lists_the_parameters(pack_copy: Copier,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 200)
    path = pack_copy({"parameters/bostotte.yaml": tagged()})
    result = CliRunner().invoke(app, ["check", str(path), "--no-properties",
                                      "--stale-after", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "parameters not confirmed up to 2025-01-01" in result.output
    assert "bostotte.tak" in result.output and "2021-12-31" in result.output
    assert "1 stale version(s)" in result.output
    bad = CliRunner().invoke(app, ["check", str(path), "--no-properties",
                                   "--stale-after", "soon"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_the_parameters_endpoint_shows_set_and_staleness(pack_copy: Copier) -> None:
    pack = load_pack(pack_copy({"parameters/bostotte.yaml": tagged()}))
    with TestClient(create_app([pack], Settings())) as client:
        stale = client.get("/v1/packs/mini/parameters", params={"as_of": "2023-06-01"})
        fresh = client.get("/v1/packs/mini/parameters", params={"as_of": "2021-06-01"})
    tak = stale.json()["parameters"]["bostotte.tak"]
    assert (tak["parameter_set"], tak["confirmed_until"], tak["stale"]) == (
        "2016", "2021-12-31", True)
    assert fresh.json()["parameters"]["bostotte.tak"]["stale"] is False
