"""The languages a pack promises: every text of rules/no has bokmål, nynorsk and English;
a pack that lists a language in pack.yaml cannot load with a text that lacks it; a pack
that does not promise nynorsk loads with one warning from ``check``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility import Engine, PackError, load_pack
from eligibility.cli import app
from eligibility.pack.lint import pack_texts, texts_without_nynorsk
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "no"
MINI = ROOT / "tests" / "packs" / "mini"


def _copy(src: Path, dest: Path, file: str, old: str, new: str) -> Path:
    shutil.copytree(src, dest)
    path = dest / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return dest


def test_every_text_of_rules_no_is_in_nb_nn_and_en() -> None:
    pack = load_pack(RULES, full=True)
    assert pack.meta.languages == ("nb", "nn", "en")
    texts = list(pack_texts(pack, set()))
    assert len(texts) > 300  # fact labels, questions, titles, descriptions, advice
    lacking = [t.nb for t in texts if not (t.nb.strip() and t.en.strip() and t.nn
                                          and t.nn.strip())]
    assert lacking == []
    assert texts_without_nynorsk(pack) == []


def test_rules_no_speaks_nynorsk_in_a_decision() -> None:
    pack = load_pack(RULES)
    facts = plain(load_yaml_text((ROOT / "fixtures" / "familie-utkastelse.yaml")
                                 .read_text(encoding="utf-8"), "f.yaml"))
    decision = Engine(pack).evaluate(facts, lang="nn", as_of="2026-01-01")
    for result in decision.measures:
        measure = pack.measure(result.id)
        assert result.title == measure.title.nn
        titles = {r.id: r.title.nn for r in measure.requirements}
        for reason in result.reasons:
            if reason.requirement in titles:
                assert reason.title == titles[reason.requirement], reason.requirement
    field = pack.schema.field("housing.rooms")
    assert field.title.get("nn") == "Tal på rom" and field.question is not None
    assert field.question.get("nn").startswith("Kor mange rom")


def test_a_text_without_a_promised_language_is_refused_at_its_line(tmp_path: Path) -> None:
    root = _copy(RULES, tmp_path / "no", "facts.yaml",
                 'title: {nb: "Antall rom", nn: "Tal på rom", en:',
                 'title: {nb: "Antall rom", en:')
    with pytest.raises(PackError) as info:
        load_pack(root)
    [diag] = info.value.diagnostics
    assert diag.file.endswith("facts.yaml")
    line = (root / "facts.yaml").read_text(encoding="utf-8").splitlines()[diag.line - 1]
    assert '{nb: "Antall rom", en:' in line
    assert "nynorsk (nn)" in diag.message and "languages: [nb, nn, en]" in diag.message
    result = CliRunner().invoke(app, ["check", str(root), "--no-properties"])
    assert result.exit_code == 1
    assert f"facts.yaml:{diag.line}:" in result.output and "nynorsk" in result.output


def test_promised_languages_also_hold_for_invariants(tmp_path: Path) -> None:
    root = _copy(RULES, tmp_path / "no", "invariants.yaml",
                 '      nn: "Bustøtta aukar aldri når inntekta aukar"\n', "")
    pack = load_pack(root)  # invariants are read on first use
    with pytest.raises(PackError) as info:
        _ = pack.invariants
    assert info.value.diagnostics[0].file.endswith("invariants.yaml")
    assert "nynorsk" in info.value.diagnostics[0].message


def test_a_pack_that_does_not_promise_nynorsk_loads_with_one_warning() -> None:
    pack = load_pack(MINI)
    assert "nn" not in pack.meta.languages
    [warning] = texts_without_nynorsk(pack)
    assert warning.code == "warning" and warning.file.endswith("pack.yaml")
    assert "have no nynorsk (nn)" in warning.message
    result = CliRunner().invoke(app, ["check", str(MINI), "--no-properties"])
    assert result.exit_code == 0, result.output
    assert result.output.count("have no nynorsk") == 1


@pytest.mark.parametrize(("languages", "message"), [
    ("[nb, en, se]", "unknown language 'se'"),
    ("[nb, nn]", "must include en"),
])
def test_declared_languages_are_checked(tmp_path: Path, languages: str, message: str) -> None:
    root = _copy(MINI, tmp_path / "mini", "pack.yaml", "languages: [nb, en]",
                 f"languages: {languages}")
    with pytest.raises(PackError) as info:
        load_pack(root)
    [diag] = info.value.diagnostics
    assert diag.file.endswith("pack.yaml") and message in diag.message
    line = (root / "pack.yaml").read_text(encoding="utf-8").splitlines()[diag.line - 1]
    assert line.startswith("languages:")
