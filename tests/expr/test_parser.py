"""The expression parser: what it accepts, and everything it must refuse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from eligibility.expr import ast
from eligibility.expr.parser import ExprSyntaxError, parse, tokenize


def test_precedence_and_associativity() -> None:
    node = parse("1 + 2 * 3 - 4")
    assert isinstance(node, ast.Binary) and node.op == "-"
    assert isinstance(node.left, ast.Binary) and node.left.op == "+"
    assert isinstance(node.left.right, ast.Binary) and node.left.right.op == "*"


def test_boolean_operators_bind_looser_than_comparisons() -> None:
    node = parse("a.b > 1 and not c.d or e.f")
    assert isinstance(node, ast.BoolOp) and node.op == "or"
    first = node.operands[0]
    assert isinstance(first, ast.BoolOp) and first.op == "and"
    assert isinstance(first.operands[0], ast.Compare)
    assert isinstance(first.operands[1], ast.Unary) and first.operands[1].op == "not"


def test_comparison_chain() -> None:
    node = parse("0 < x <= 5")
    assert isinstance(node, ast.Compare)
    assert node.ops == ("<", "<=") and len(node.operands) == 3


def test_in_and_not_in() -> None:
    node = parse('housing.tenure not in ["leie", "eie"]')
    assert isinstance(node, ast.Compare) and node.ops == ("notin",)
    items = node.operands[1]
    assert isinstance(items, ast.ListLit) and [i.value for i in items.items] == ["leie", "eie"]  # type: ignore[attr-defined]


def test_literals_are_exact() -> None:
    assert parse("0.737").value == Decimal("0.737")  # type: ignore[attr-defined]
    assert parse("25%").value == Decimal("0.25")  # type: ignore[attr-defined]
    assert parse("12_000").value == 12000  # type: ignore[attr-defined]
    assert parse("date(2024-07-01)").value == date(2024, 7, 1)  # type: ignore[attr-defined]
    assert parse("true").value is True  # type: ignore[attr-defined]


def test_if_then_else_and_calls() -> None:
    node = parse("if a.b then min(1, 2) else count(members, age < 18)")
    assert isinstance(node, ast.If)
    assert isinstance(node.then, ast.Call) and node.then.func == "min"
    assert isinstance(node.orelse, ast.Call) and len(node.orelse.args) == 2


def test_positions_point_into_the_text() -> None:
    text = "housing.cost_month + 1"
    node = parse(text)
    assert isinstance(node, ast.Binary)
    assert text[node.left.start : node.left.end] == "housing.cost_month"


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("x.__class__", 2, "may not start with '_'"),
        ("__import__", 0, "may not start with '_'"),
        ("().__class__", 1, "unexpected"),
        ("lambda: 1", 6, "no slices or lambdas"),
        ("lambda x", 0, "not allowed"),
        ("import os", 0, "not allowed"),
        ("open(x)", 0, "not allowed"),
        ("eval(x)", 0, "not allowed"),
        ("exec(x)", 0, "not allowed"),
        ("getattr(x, y)", 0, "not allowed"),
        ("system(x)", 0, "unknown function"),
        ("a.b()", 3, "methods cannot be called"),
        ("members[0]", 7, "subscripts"),
        ("x = 1", 2, "unexpected character '='"),
        ("a; b", 1, "unexpected character ';'"),
        ("{1: 2}", 0, "unexpected character '{'"),
        ("1 if a else 2", 2, "unexpected 'if'"),
        ("2 ** 3", 3, "unexpected '*'"),
        ("7 // 2", 3, "unexpected '/'"),
        ("round(x, ndigits=2)", 16, "unexpected character '='"),
        ("a & b", 2, "unexpected character '&'"),
        ("`id`", 0, "unexpected character '`'"),
        ("f'{x}'", 1, "unexpected"),
        ("2024-01-01", 0, "date("),
        ("", 0, "empty expression"),
        ("(1 + 2", 6, "expected ')'"),
        ("min(1, 2", 8, "expected ')'"),
        ("1 +", 3, "unexpected the end"),
        ("date(2024-02-30)", 5, "not a valid date"),
        ("a.lambda", 2, "not allowed"),
    ],
)
def test_rejected(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert fragment in info.value.message or fragment in (info.value.hint or "")
    assert info.value.offset == offset


def test_hints_for_python_habits() -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse("a == 1 && b")
    assert info.value.hint == "use `and` / `or`"
    with pytest.raises(ExprSyntaxError) as info:
        parse("cout(members)")
    assert info.value.hint == "did you mean 'count'?"


def test_tokens_end_with_end_marker() -> None:
    tokens = tokenize("a.b >= 3")
    assert [t.kind for t in tokens] == ["name", "op", "name", "op", "num", "end"]


def test_very_long_expression_is_refused() -> None:
    with pytest.raises(ExprSyntaxError):
        parse("1 + " * 5000 + "1")


def test_nesting_up_to_the_limit_parses() -> None:
    from eligibility.limits import MAX_EXPR_NESTING

    depth = MAX_EXPR_NESTING - 1
    node = parse("(" * depth + "1" + ")" * depth)
    assert isinstance(node, ast.Number) and node.value == 1


@pytest.mark.parametrize(("text", "fragment"), [
    ("(" * 1000 + "1" + ")" * 1000, "nested more than"),
    ("-" * 5000 + "1", "nested more than"),
    ("min(" * 1000 + "1" + ", 1)" * 1000, "nested more than"),
    ("1 in " + "[" * 2000 + "]" * 2000, "nested more than"),
    (" + ".join(["1"] * 2400), "levels of operations"),
    ("9" * 5000, "at most 30 digits"),
    ("１２ > 1", "unexpected character '１'"),
    ("\u0661 + 1", "unexpected character"),
])
def test_hostile_expressions_are_refused_at_a_position(text: str, fragment: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert fragment in info.value.message
    assert 0 <= info.value.offset <= len(text)


def test_long_chains_of_signs_and_not_build_the_same_tree() -> None:
    node = parse("- - -1")
    assert isinstance(node, ast.Unary) and isinstance(node.operand, ast.Unary)
    assert repr(parse("not not true")) == repr(
        ast.Unary(0, 12, "not", ast.Unary(4, 12, "not", ast.Boolean(8, 12, True))))
    assert repr(parse("+ + 1")) == repr(ast.Number(4, 5, 1))
