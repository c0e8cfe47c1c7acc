"""Lexer and recursive-descent parser for rule expressions.

The grammar is deliberately small (see ``docs/rule-authoring.md``): literals,
dotted names, arithmetic, comparisons (chained), three-valued ``and``/``or``/
``not``, ``if … then … else …``, calls to whitelisted functions and list literals
after ``in``. Anything else — subscripts, lambdas, dunder names, keyword
arguments, statements, non-ASCII digits — is a :class:`ExprSyntaxError` with the
offset of the offending character. The parser never hands text to Python, and it
is bounded (:mod:`eligibility.limits`): the length of the text, the nesting of
parentheses, calls, lists and operator chains, the depth of the tree it builds and
the digits of a literal are checked as it goes, so any text is parsed or refused
with a positioned error, never a ``RecursionError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from eligibility.expr import ast
from eligibility.limits import (
    MAX_EXPR_LENGTH,
    MAX_EXPR_NESTING,
    MAX_EXPR_TREE_DEPTH,
    MAX_NUMBER_DIGITS,
)

#: Functions an expression may call; anything else is rejected by the parser.
FUNCTIONS: frozenset[str] = frozenset(
    {
        "min", "max", "round", "floor", "ceil", "abs",
        "param", "count", "sum", "any", "all", "known",
        "yearly", "monthly", "date",
        "years_since", "months_since", "months_until",
    }
)

KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else", "true", "false"})
#: Words that would mean something in Python and must never be names here.
FORBIDDEN_WORDS = frozenset(
    {"lambda", "import", "def", "class", "exec", "eval", "open", "getattr", "setattr",
     "globals", "locals", "vars", "compile", "__import__", "is", "for", "while", "with",
     "yield", "return", "del", "from", "as", "assert", "async", "await", "None", "True",
     "False", "self", "os", "sys", "builtins"}
)


class ExprSyntaxError(Exception):
    """A syntax error at ``offset`` in the expression text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, str, name, op, date, end
    text: str
    start: int
    end: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\d.]))
  | (?P<num>\d+(?:_\d+)*(?:\.\d+)?%?)
  | (?P<str>"[^"\\\n]*"|'[^'\\\n]*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|[-+*/(),.<>\[\]])
    """,
    re.VERBOSE | re.ASCII,
)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, rejecting any character outside the grammar."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            char = text[pos]
            hint = None
            if char == "=":
                hint = "use == to compare"
            elif char in "&|":
                hint = "use `and` / `or`"
            elif char == "!":
                hint = "use `not`"
            elif char in "{}":
                hint = "no dictionaries in expressions"
            elif char == ":":
                hint = "no slices or lambdas in expressions"
            raise ExprSyntaxError(f"unexpected character {char!r}", pos, hint)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), match.start(), match.end()))
        pos = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


_COMPARE_OPS = {"==", "!=", "<", "<=", ">", ">="}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def enter(self, at: int) -> None:
        self.depth += 1
        if self.depth > MAX_EXPR_NESTING:
            raise ExprSyntaxError(f"the expression is nested more than {MAX_EXPR_NESTING} "
                                  "levels deep", at, "split it into `let` names or criteria")

    # -- helpers -----------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def is_word(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def is_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == op

    def advance(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            found = self.describe(self.tok)
            raise ExprSyntaxError(f"expected {op!r}, found {found}", self.tok.start)
        return self.advance()

    def expect_word(self, word: str) -> Token:
        if not self.is_word(word):
            raise ExprSyntaxError(
                f"expected `{word}`, found {self.describe(self.tok)}", self.tok.start
            )
        return self.advance()

    @staticmethod
    def describe(tok: Token) -> str:
        return "the end of the expression" if tok.kind == "end" else repr(tok.text)

    # -- grammar -----------------------------------------------------------
    def parse(self) -> ast.Node:
        if self.tok.kind == "end":
            raise ExprSyntaxError("empty expression", 0)
        node = self.expression()
        if self.tok.kind != "end":
            raise ExprSyntaxError(f"unexpected {self.describe(self.tok)}", self.tok.start)
        return node

    def expression(self) -> ast.Node:
        self.enter(self.tok.start)
        try:
            if self.is_word("if"):
                start = self.advance().start
                cond = self.expression()
                self.expect_word("then")
                then = self.expression()
                self.expect_word("else")
                orelse = self.expression()
                return ast.If(start, orelse.end, cond, then, orelse)
            return self.or_expr()
        finally:
            self.depth -= 1

    def or_expr(self) -> ast.Node:
        first = self.and_expr()
        operands = [first]
        while self.is_word("or"):
            self.advance()
            operands.append(self.and_expr())
        if len(operands) == 1:
            return first
        return ast.BoolOp(first.start, operands[-1].end, "or", tuple(operands))

    def and_expr(self) -> ast.Node:
        first = self.not_expr()
        operands = [first]
        while self.is_word("and"):
            self.advance()
            operands.append(self.not_expr())
        if len(operands) == 1:
            return first
        return ast.BoolOp(first.start, operands[-1].end, "and", tuple(operands))

    def not_expr(self) -> ast.Node:
        starts: list[int] = []
        while self.is_word("not"):
            starts.append(self.advance().start)
            self.enter(starts[-1])
        self.depth -= len(starts)
        node = self.comparison()
        for start in reversed(starts):
            node = ast.Unary(start, node.end, "not", node)
        return node

    def comparison(self) -> ast.Node:
        first = self.additive()
        ops: list[str] = []
        operands = [first]
        while True:
            if self.tok.kind == "op" and self.tok.text in _COMPARE_OPS:
                ops.append(self.advance().text)
                operands.append(self.additive())
            elif self.is_word("in"):
                self.advance()
                ops.append("in")
                operands.append(self.additive())
            elif self.is_word("not") and self.peek().kind == "name" and self.peek().text == "in":
                self.advance()
                self.advance()
                ops.append("notin")
                operands.append(self.additive())
            else:
                break
        if not ops:
            return first
        return ast.Compare(first.start, operands[-1].end, tuple(ops), tuple(operands))

    def additive(self) -> ast.Node:
        node = self.term()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.advance().text
            right = self.term()
            node = ast.Binary(node.start, right.end, op, node, right)
        return node

    def term(self) -> ast.Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.advance().text
            if self.is_op("*") or self.is_op("/"):
                raise ExprSyntaxError(f"unexpected {self.tok.text!r}", self.tok.start)
            right = self.unary()
            node = ast.Binary(node.start, right.end, op, node, right)
        return node

    def unary(self) -> ast.Node:
        starts: list[int] = []
        signs = 0
        while self.is_op("-") or self.is_op("+"):
            tok = self.advance()
            signs += 1
            self.enter(tok.start)
            if tok.text == "-":
                starts.append(tok.start)
        self.depth -= signs
        node = self.primary()
        for start in reversed(starts):
            node = ast.Unary(start, node.end, "-", node)
        return node

    def primary(self) -> ast.Node:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return _number(tok)
        if tok.kind == "str":
            self.advance()
            return ast.String(tok.start, tok.end, tok.text[1:-1])
        if tok.kind == "date":
            raise ExprSyntaxError(
                "a date must be written date(YYYY-MM-DD)", tok.start, f"date({tok.text})"
            )
        if self.is_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        if self.is_op("["):
            return self.list_literal()
        if tok.kind == "name":
            return self.name_or_call()
        raise ExprSyntaxError(f"unexpected {self.describe(tok)}", tok.start)

    def list_literal(self) -> ast.Node:
        start = self.advance().start
        items: list[ast.Node] = []
        if not self.is_op("]"):
            items.append(self.expression())
            while self.is_op(","):
                self.advance()
                if self.is_op("]"):
                    break
                items.append(self.expression())
        end = self.expect_op("]").end
        return ast.ListLit(start, end, tuple(items))

    def check_word(self, tok: Token) -> None:
        word = tok.text
        if word.startswith("_"):
            raise ExprSyntaxError(f"names may not start with '_': {word!r}", tok.start)
        if word in FORBIDDEN_WORDS:
            raise ExprSyntaxError(f"{word!r} is not allowed in a rule expression", tok.start)

    def name_or_call(self) -> ast.Node:
        tok = self.advance()
        word = tok.text
        self.check_word(tok)
        if word == "true":
            return ast.Boolean(tok.start, tok.end, True)
        if word == "false":
            return ast.Boolean(tok.start, tok.end, False)
        if word in KEYWORDS:
            raise ExprSyntaxError(f"unexpected keyword `{word}`", tok.start)
        if self.is_op("("):
            return self.call(tok)
        parts = [word]
        end = tok.end
        while self.is_op("."):
            self.advance()
            part = self.tok
            if part.kind != "name":
                raise ExprSyntaxError(f"expected a name after '.', found {self.describe(part)}",
                                      part.start)
            self.check_word(part)
            if part.text in KEYWORDS:
                raise ExprSyntaxError(f"unexpected keyword `{part.text}`", part.start)
            self.advance()
            parts.append(part.text)
            end = part.end
        if self.is_op("("):
            raise ExprSyntaxError("methods cannot be called; only the listed functions",
                                  self.tok.start)
        if self.is_op("["):
            raise ExprSyntaxError("subscripts are not allowed", self.tok.start,
                                  "use count/sum/any/all over members")
        return ast.Name(tok.start, end, tuple(parts))

    def call(self, name: Token) -> ast.Node:
        if name.text not in FUNCTIONS:
            import difflib

            close = difflib.get_close_matches(name.text, sorted(FUNCTIONS), n=1)
            raise ExprSyntaxError(
                f"unknown function {name.text!r}",
                name.start,
                f"did you mean {close[0]!r}?" if close
                else "functions: " + ", ".join(sorted(FUNCTIONS)),
            )
        self.expect_op("(")
        if name.text == "date":
            tok = self.tok
            if tok.kind != "date":
                raise ExprSyntaxError("date() takes a date written YYYY-MM-DD", tok.start)
            self.advance()
            end = self.expect_op(")").end
            try:
                value = date.fromisoformat(tok.text)
            except ValueError:
                raise ExprSyntaxError(f"not a valid date: {tok.text}", tok.start) from None
            return ast.DateLit(name.start, end, value)
        args: list[ast.Node] = []
        if not self.is_op(")"):
            args.append(self.expression())
            while self.is_op(","):
                self.advance()
                args.append(self.expression())
        end = self.expect_op(")").end
        return ast.Call(name.start, end, name.text, tuple(args))


def _number(tok: Token) -> ast.Number:
    text = tok.text.replace("_", "")
    if sum(ch.isdigit() for ch in text.lstrip("0")) > MAX_NUMBER_DIGITS:
        raise ExprSyntaxError(f"a number may have at most {MAX_NUMBER_DIGITS} digits",
                              tok.start)
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    value: int | Decimal
    if percent:
        value = Decimal(text) / 100
    elif "." in text:
        value = Decimal(text)
    else:
        value = int(text)
    return ast.Number(tok.start, tok.end, value)


def parse(text: str) -> ast.Node:
    """Parse one expression; raise :class:`ExprSyntaxError` on anything outside the grammar."""
    if len(text) > MAX_EXPR_LENGTH:
        raise ExprSyntaxError(f"expression is longer than {MAX_EXPR_LENGTH} characters", 0)
    node = _Parser(text).parse()
    _check_tree_depth(node)
    return node


def _check_tree_depth(root: ast.Node) -> None:
    """Refuse a tree deeper than the limit (e.g. a 2 000-term sum), iteratively, so that
    the checker, the compiler and the evaluation never recurse past it."""
    stack: list[tuple[ast.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPR_TREE_DEPTH:
            raise ExprSyntaxError(
                f"the expression has more than {MAX_EXPR_TREE_DEPTH} levels of operations "
                "(a long chain such as a + b + c … counts one level per term)", node.start,
                "split it into `let` names or criteria")
        stack.extend((child, depth + 1) for child in ast.children(node))
