"""The safe YAML layer: positions, exact decimals, duplicates, YAML 1.2 booleans."""

from __future__ import annotations

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
