"""Loading packs: the IR, and every static check with its message and position."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from eligibility import PackError, RulePack, load_pack
from eligibility.errors import Diagnostic

Copier = Callable[..., Path]


def diagnostics(path: Path) -> list[Diagnostic]:
    with pytest.raises(PackError) as info:
        load_pack(path, full=True)
    return info.value.diagnostics


def only(path: Path) -> Diagnostic:
    found = diagnostics(path)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


def test_mini_pack_loads_into_an_immutable_ir(mini_pack: RulePack) -> None:
    assert mini_pack.meta.id == "mini" and mini_pack.meta.valid_from == date(2020, 1, 1)
    bostotte = mini_pack.measure("bostotte")
    assert [r.id for r in bostotte.requirements] == ["voksen", "registrert", "utbetaling"]
    assert bostotte.requirements[0].exceptions[0].id == "egne_barn"
    assert mini_pack.parameters["bostotte.dekning"].versions[0].value == Decimal("0.737")
    table = mini_pack.parameters["bostotte.tak"].version_at(date(2024, 5, 1))
    assert table is not None and table.value[2] == 96000
    with pytest.raises(TypeError):
        mini_pack.parameters["x"] = None  # type: ignore[index]
    assert len(mini_pack.content_hash) == 64


def test_measures_are_ordered_by_goal(mini_pack: RulePack) -> None:
    assert [m.goal for m in mini_pack.measures] == ["akutt", "leie", "eie"]


def test_content_hash_changes_with_the_rules(mini_pack: RulePack, pack_copy: Copier) -> None:
    same = load_pack(pack_copy())
    assert same.content_hash == mini_pack.content_hash
    changed = load_pack(pack_copy({"parameters/bostotte.yaml": [("0.737", "0.738")]}))
    assert changed.content_hash != mini_pack.content_hash


def test_yaml_syntax_error(pack_copy: Copier) -> None:
    d = only(pack_copy(write={"criteria/bad.yaml": "x:\n  title: [a\n"}))
    assert d.file.endswith("criteria/bad.yaml") and "YAML syntax" in d.message


def test_unknown_key_with_suggestion(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/botilbud.yaml": [("goal: akutt", "goal: akutt\nsourcs: []")]}))
    assert d.message == "unknown key 'sourcs'" and d.hint == "did you mean 'sources'?"
    assert d.file.endswith("measures/botilbud.yaml") and d.line == 4


def test_missing_key(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/botilbud.yaml": [("kind: right\n", "")]}))
    assert "missing required key 'kind'" in d.message


def test_unknown_fact_name_points_at_the_column(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/botilbud.yaml": [("situation.homeless",
                                                     "situation.homeles")]}))
    assert "unknown name 'situation.homeles'" in d.message
    assert d.hint == "did you mean 'situation.homeless'?"
    assert (d.line, d.column) == (9, 11)


def test_type_error(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/botilbud.yaml": [("when: situation.homeless",
                                                     "when: situation.homeless + 1")]}))
    assert "`+` needs numbers" in d.message and d.line == 9


def test_requirement_must_be_a_condition(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/botilbud.yaml": [("when: situation.homeless",
                                                     "when: household.kommunegruppe")]}))
    assert "must give true/false" in d.message


def test_unit_mismatch(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/bostotte.yaml": [("min(yearly(housing.cost_month), tak)",
                                                     "min(housing.cost_month, tak)")]}))
    assert "unit mismatch in min()" in d.message


def test_amount_unit_must_match_its_declaration(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/bostotte.yaml": [("formula: monthly(", "formula: (")]}))
    assert "gives [NOK/year] but the amount is declared in [NOK/month]" in d.message


def test_enum_value(pack_copy: Copier) -> None:
    d = only(pack_copy(write={"criteria/extra.yaml":
                              'leier:\n  title: {nb: a, en: a}\n  value: housing.tenure == "lei"\n'
                              '  sources: [{ref: x}]\n'}))
    assert "'lei' is not a value" in d.message and d.hint == "did you mean 'leie'?"
    assert (d.line, d.column) == (3, 28)


def test_cycle_between_criteria(pack_copy: Copier) -> None:
    text = ("a:\n  title: {nb: a, en: a}\n  value: criteria.b\n  sources: [{ref: x}]\n"
            "b:\n  title: {nb: b, en: b}\n  value: not criteria.a\n  sources: [{ref: x}]\n")
    found = diagnostics(pack_copy(write={"criteria/cycle.yaml": text}))
    assert any("cycle between criteria: a -> b -> a" in d.message for d in found)


def test_duplicate_criterion_id(pack_copy: Copier) -> None:
    text = "barnefamilie:\n  title: {nb: a, en: a}\n  value: true\n  sources: [{ref: x}]\n"
    d = only(pack_copy(write={"criteria/zz.yaml": text}))
    assert "duplicate criterion id 'barnefamilie'" in d.message and "grupper.yaml:5" in d.message


def test_duplicate_measure_id_with_overlapping_dates(pack_copy: Copier) -> None:
    copy = pack_copy()
    text = (copy / "measures" / "botilbud.yaml").read_text()
    (copy / "measures" / "z.yaml").write_text(text)
    d = only(copy)
    assert "duplicate measure id 'midlertidig_botilbud'" in d.message


def test_dated_versions_of_a_measure_are_allowed(pack_copy: Copier) -> None:
    copy = pack_copy({"measures/botilbud.yaml": [("kind: right",
                                                  "kind: right\nvalid_to: 2022-12-31")]})
    text = (copy / "measures" / "botilbud.yaml").read_text().replace(
        "valid_to: 2022-12-31", "valid_from: 2023-01-01")
    (copy / "measures" / "botilbud2.yaml").write_text(text)
    pack = load_pack(copy)
    assert [m.id for m in pack.measures].count("midlertidig_botilbud") == 2


def test_parameter_dates_out_of_order(pack_copy: Copier) -> None:
    d = only(pack_copy({"parameters/bostotte.yaml": [
        ("    2024-01-01: {value", "    2015-01-01: {value")]}))
    assert "dates must be in increasing order" in d.message


def test_parameter_duplicate_date(pack_copy: Copier) -> None:
    d = only(pack_copy({"parameters/bostotte.yaml": [
        ("    2016-01-01: 20000\n    2024-01-01:", "    2016-01-01: 20000\n    2016-01-01:")]}))
    assert "duplicate key" in d.message


def test_parameter_gap_at_the_start(pack_copy: Copier) -> None:
    d = only(pack_copy({"parameters/startlan.yaml": [("2016-01-01", "2021-03-01")]}))
    assert "starts on 2021-03-01, after the pack's valid_from 2020-01-01: a gap" in d.message
    assert d.file.endswith("parameters/startlan.yaml") and d.line == 4


def test_parameter_closed_and_reopened(pack_copy: Copier) -> None:
    d = only(pack_copy({"parameters/startlan.yaml": [
        ("values: {2016-01-01: 5}", "values: {2016-01-01: 5, 2021-01-01: null, 2022-01-01: 6}")]}))
    assert "closed on 2021-01-01 and reopened on 2022-01-01" in d.message


def test_parameter_tables_must_keep_their_keys(pack_copy: Copier) -> None:
    d = only(pack_copy({"parameters/bostotte.yaml": [("{1: 72000, 2: 96000, 3: 108000}",
                                                       "{1: 72000, 2: 96000}")]}))
    assert "dated tables have different keys" in d.message


def test_parameter_needs_a_source(pack_copy: Copier) -> None:
    d = only(pack_copy({"parameters/startlan.yaml": [
        ('  source: {ref: "Veileder til startlån"}\n', "")]}))
    assert "cites no source" in d.message


def test_unknown_goal(pack_copy: Copier) -> None:
    d = only(pack_copy({"measures/botilbud.yaml": [("goal: akutt", "goal: akut")]}))
    assert "unknown goal 'akut'" in d.message and d.hint == "did you mean 'akutt'?"


def test_case_names_unknown_measure(pack_copy: Copier) -> None:
    d = only(pack_copy({"cases/enslig.yaml": [("    bostotte:", "    bostote:")]}))
    assert "unknown measure 'bostote'" in d.message and d.hint == "did you mean 'bostotte'?"


def test_many_errors_are_reported_together(pack_copy: Copier) -> None:
    found = diagnostics(pack_copy({
        "measures/botilbud.yaml": [("goal: akutt", "goal: akut")],
        "parameters/startlan.yaml": [("2016-01-01", "2021-03-01")],
    }))
    assert len(found) == 2


def test_no_pack_here(tmp_path: Path) -> None:
    with pytest.raises(PackError) as info:
        load_pack(tmp_path)
    assert "no pack.yaml" in str(info.value)


def test_cases_and_invariants_are_read_only_when_asked_for(pack_copy: Copier) -> None:
    path = pack_copy(write={"cases/broken.yaml": "name: [unclosed\n"})
    pack = load_pack(path)  # an Engine never needs the cases: they are not read
    with pytest.raises(PackError) as info:
        _ = pack.cases
    assert info.value.diagnostics[0].file.endswith("cases/broken.yaml")
    with pytest.raises(PackError):
        load_pack(path, full=True)  # what `check` does: everything, reported together


def test_a_cases_read_is_kept(mini_pack: RulePack) -> None:
    assert mini_pack.cases is mini_pack.cases and len(mini_pack.cases) == 1


@pytest.mark.parametrize(("rel", "text", "fragment"), [
    ("measures/empty.yaml", "", "the file is empty (or holds only comments)"),
    ("parameters/notes.yaml", "# later\n", "the file is empty (or holds only comments)"),
])
def test_empty_files_are_named(pack_copy: Copier, rel: str, text: str, fragment: str) -> None:
    d = only(pack_copy(write={rel: text}))
    assert d.file.endswith(rel) and (d.line, d.column) == (1, 1) and fragment in d.message


def test_nothing_outside_the_pack_is_read(pack_copy: Copier, tmp_path: Path) -> None:
    import os

    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("id: stolen\n", encoding="utf-8")
    path = pack_copy()
    (path / "measures" / "passwd.yaml").symlink_to("/etc/passwd")
    (path / "measures" / "x.yaml").symlink_to(outside)
    (path / "measures" / "dir.yaml").mkdir()
    os.mkfifo(path / "measures" / "fifo.yaml")
    found = {Path(d.file).name: d.message for d in diagnostics(path)}
    assert "outside the pack folder" in found["passwd.yaml"]
    assert "outside the pack folder" in found["x.yaml"]
    assert found["dir.yaml"] == "not a regular file"
    assert found["fifo.yaml"] == "not a regular file"


def test_a_symlink_inside_the_pack_is_fine(pack_copy: Copier) -> None:
    path = pack_copy()
    original = path / "measures" / "botilbud.yaml"
    moved = path / "measures" / "botilbud.src"
    original.rename(moved)
    original.symlink_to(moved)
    assert load_pack(path).measure("midlertidig_botilbud")
