"""The safe YAML layer: positions, exact decimals, duplicates, YAML 1.2 booleans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from eligibility.pack.yamlio import LocStr, YamlError, load_yaml_text, plain


def test_norway_stays_a_string() -> None:
    data = load_yaml_text("id: no\nflag: yes\nreal: true\noff: off\n", "x.yaml")
    assert data == {"id": "no", "flag": "yes", "real": True, "off": "off"}


def test_decimals_are_exact() -> None:
    data = load_yaml_text("rate: 0.737\nsmall: 1.1e-2\n", "x.yaml")
    assert data["rate"] == Decimal("0.737") and isinstance(data["rate"], Decimal)
    assert data["small"] == Decimal("0.011")


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    with pytest.raises(YamlError) as info:
        load_yaml_text("a: 1\nb: 2\na: 3\n", "x.yaml")
    d = info.value.diagnostic
    assert (d.file, d.line, d.column) == ("x.yaml", 3, 1)
    assert "duplicate key 'a' (first defined at line 1)" in d.message


def test_syntax_errors_have_a_position() -> None:
    with pytest.raises(YamlError) as info:
        load_yaml_text("a: [1, 2\nb: 3\n", "x.yaml")
    assert info.value.diagnostic.line >= 2 and "YAML syntax" in info.value.diagnostic.message


def test_python_tags_are_refused() -> None:
    with pytest.raises(YamlError):
        load_yaml_text("a: !!python/object/apply:os.system ['true']\n", "x.yaml")


def test_strings_know_where_they_are() -> None:
    data = load_yaml_text("x:\n  when: a.b and c.d\n", "x.yaml")
    text = data["x"]["when"]
    assert isinstance(text, LocStr)
    assert (text.mark.line, text.mark.column) == (2, 9)
    assert text.position(6).column == 15


def test_positions_inside_folded_expressions() -> None:
    data = load_yaml_text("when: >\n  a.b and\n  c.d > 1\n", "x.yaml")
    text = data["when"]
    offset = text.index("c.d")
    assert (text.position(offset).line, text.position(offset).column) == (3, 3)


def test_plain_strips_wrappers() -> None:
    data = plain(load_yaml_text("a: {b: [x, 1]}\n", "x.yaml"))
    assert data == {"a": {"b": ["x", 1]}} and type(data["a"]["b"][0]) is str


def test_libyaml_is_used_and_keeps_positions_of_folded_text() -> None:
    from eligibility.pack.yamlio import WITH_LIBYAML

    assert WITH_LIBYAML  # PyYAML wheels ship libyaml; start-up depends on it
    data = load_yaml_text("a: 1\nwhen: >\n  x.y and\n  zz.w > 1\n", "x.yaml")
    text = data["when"]
    assert isinstance(text, LocStr)
    at = text.position(text.index("zz"))
    assert (at.line, at.column) == (4, 3)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(8))


@pytest.mark.parametrize(("text", "aliases", "where", "fragment"), [
    (BOMB, True, (6, 4), "more than 200000 values"),
    ("a: &x 1\nb: *x\n", False, (1, 4), "aliases (&anchor / *alias) are not allowed"),
    ("a: &x [*x]\n", True, (1, 4), "an alias refers to itself"),
    ("a: " + "[" * 40 + "]" * 40, True, (1, 35), "nested deeper than 32 levels"),
    ("a: b\nc: d\x00\n", True, (2, 5), "character 0x0000 is not allowed"),
    ("a: \x9a\n", True, (1, 4), "character 0x009a"),
    ("a:\n  b: 2026-01-01T25:61:00Z\n", True, (2, 6), "as a date or time: hour must be in 0..23"),
    ("a: 0000-01-01\n", True, (1, 4), "year 0 is out of range"),
    ("a: " + "9" * 5000 + "\n", True, (1, 4), "at most 21 digits"),
    ("a: 1.0e+99999\n", True, (1, 4), "at most 1e20 in size"),
])
def test_hostile_yaml_is_our_own_error(text: str, aliases: bool, where: tuple[int, int],
                                       fragment: str) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml_text(text, "x.yaml", aliases=aliases)
    d = info.value.diagnostic
    assert (d.file, d.line, d.column) == ("x.yaml", *where)
    assert fragment in d.message


def test_aliases_in_rule_files_are_expanded_within_the_bound() -> None:
    assert plain(load_yaml_text("a: &x [1, 2]\nb: *x\n", "x.yaml")) == {"a": [1, 2],
                                                                          "b": [1, 2]}


def test_facts_documents_json_and_yaml() -> None:
    from eligibility.pack.yamlio import load_facts_text

    assert load_facts_text('{"a": 1.5}', "f.json") == {"a": Decimal("1.5")}
    for text in ("[" * 5000 + "]" * 5000, '{"a": ' + "9" * 5000 + "}", '{"a": NaN}',
                 '{"a": 1e999}', '{"a": 1,}'):
        with pytest.raises(YamlError) as info:
            load_facts_text(text, "f.json")
        assert info.value.diagnostic.file == "f.json"
    with pytest.raises(YamlError):
        load_facts_text("a: &x 1\nb: *x\n", "f.yaml")


def test_the_collector_is_resumed_after_a_pack_loads() -> None:
    import gc

    from eligibility.pack.loader import load_pack

    assert gc.isenabled()
    load_pack("tests/packs/mini")
    assert gc.isenabled()
    gc.disable()
    try:
        load_pack("tests/packs/mini")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_standard_and_other_tags_build_as_pyyaml_builds_them() -> None:
    text = ("a: !!set {x, y}\nb: !!omap [k: 1, l: 2]\nc: !!binary aGVsbG8=\n"
            "d: &m {k: 1}\ne: {<<: *m, f: 2}\ng: [yes, no, true, ~, 1.50, 0x1F, 2020-01-02]\n"
            "h: *m\n")
    doc = load_yaml_text(text, "t.yaml")
    assert doc["a"] == {"x", "y"} and doc["b"] == [("k", 1), ("l", 2)]
    assert doc["c"] == b"hello" and doc["e"] == {"k": 1, "f": 2}
    assert doc["g"] == ["yes", "no", True, None, Decimal("1.50"), 31, date(2020, 1, 2)]
    assert doc["h"] is doc["d"]  # an alias shares the value, as PyYAML's constructor does
    assert doc.key_marks["h"].line == 7 and doc["e"].mark.line == 5
