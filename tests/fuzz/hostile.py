"""Seeded generators of hostile input for the fuzz suite (facts, files, rule-file edits).

Everything here is deterministic given a ``random.Random``: the same seed gives the
same documents, files and mutations, so a failure found in CI reproduces locally.
The attacks follow the security review of issue 11: amplification (deep nesting,
huge numbers, exponent strings, long lists, long strings, YAML aliases), foreign
exceptions (control characters, bad timestamps, huge ints, odd types) and rule-file
attacks (deep expressions, non-ASCII digits, sandbox escapes, symlinks, FIFOs).
"""

from __future__ import annotations

import copy
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from eligibility.pack.yamlio import load_yaml_file, plain

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures").glob("*.yaml"))
#: the file an escaped expression or YAML tag would create (checked after every suite)
CANARY_NAME = "ELIGIBILITY_FUZZ_CANARY"


def base_households() -> list[dict[str, Any]]:
    """The bundled fixtures as plain facts documents (valid for rules/no)."""
    return [plain(load_yaml_file(p)) for p in FIXTURES]


def deep(levels: int, leaf: Any = 1, kind: str = "list") -> Any:
    value: Any = leaf
    for _ in range(levels):
        value = [value] if kind == "list" else {"a": value}
    return value


def hostile_value(rng: random.Random) -> Any:
    """One value meant to cost too much, crash a converter, or confuse a type check."""
    choice = rng.randrange(32)
    if choice == 0:
        return "9e999999"
    if choice == 1:
        return "9" * rng.choice((30, 500, 4301, 5000))
    if choice == 2:
        return int("9" * rng.choice((25, 4000)))
    if choice == 3:
        return Decimal("1e" + str(rng.choice((21, 5000, 999999))))
    if choice == 4:
        return float(rng.choice(("inf", "-inf", "nan")))
    if choice == 5:
        return rng.choice((1e308, -1e308, 5e-324, 1e21))
    if choice == 6:
        return deep(rng.choice((10, 100, 1000, 5000)), kind=rng.choice(("list", "dict")))
    if choice == 7:
        return "x" * rng.choice((10_001, 100_000))
    if choice == 8:
        return "\x00\x01\x9a\u202e\ufeff" * rng.randint(1, 5)
    if choice == 9:
        return rng.choice(("2026-01-01T25:61:00Z", "0000-01-01", "2026-02-30", "9999-99-99",
                           "+002026-01-01", "2026-1-1"))
    if choice == 10:
        return [{}] * rng.choice((101, 1000, 10_000))
    if choice == 11:
        return rng.choice(("１２", "\u0661\u0662", "Ⅻ", "½", "1_000", "1,5", " 12 ", "0x10"))
    if choice == 12:
        return {"$ref": "#/x", "__class__": "os", "__proto__": {}}
    if choice == 13:
        return rng.choice((True, False, None, 0, -1, 2**63, -(2**63)))
    if choice == 14:
        return rng.choice(([], {}, "", " ", "null", "none", "true"))
    if choice == 15:
        return "[bold red]x[/bold red] [link=file:///etc/passwd]y[/link] [/]"
    if choice == 16:
        return Decimal(rng.choice(("NaN", "sNaN", "Infinity", "-0", "1E+20", "1e-999999")))
    if choice == 17:
        return {i: i for i in range(rng.choice((3, 2000)))}
    if choice == 18:
        return (1, 2, 3)
    if choice == 19:
        return {"age": 5, "role": "child"}
    if choice == 20:
        return rng.randint(-10**6, 10**6)
    if choice == 21:
        return Decimal(rng.randint(-10**9, 10**9)) / 100
    if choice == 22:
        return rng.choice(("leie_privat", "eier_enebolig", "applicant", "child", "none", "ingen"))
    if choice == 23:
        return "1" + "0" * 20 + ".5"
    if choice == 24:
        return b"\xff\xfe bytes"
    if choice == 25:
        return {1, 2}
    if choice == 26:
        return "-" * 5000 + "1"
    if choice == 27:
        return str(rng.randint(0, 10**6))
    if choice == 28:
        return rng.choice(("2026-07-01", "1900-01-01", "9999-12-31"))
    if choice == 29:
        return object()
    if choice == 30:
        return "\ud800"  # a lone surrogate
    return [hostile_value(rng) for _ in range(rng.randint(0, 3))]


def _paths(doc: Any) -> list[tuple[Any, ...]]:
    """Paths into ``doc`` down to four levels (iterative: ``doc`` may be very deep)."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, ())]
    while stack and len(out) < 5000:
        value, prefix = stack.pop()
        out.append(prefix)
        if len(prefix) >= 4:
            continue
        if isinstance(value, dict):
            stack.extend((v, (*prefix, k)) for k, v in list(value.items())[:200])
        elif isinstance(value, list):
            stack.extend((v, (*prefix, i)) for i, v in enumerate(value[:200]))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def hostile_facts(rng: random.Random, bases: list[dict[str, Any]]) -> Any:
    """A facts document: a fixture with one to three places made hostile (or junk)."""
    roll = rng.random()
    if roll < 0.05:
        return hostile_value(rng)  # not even a mapping
    doc = copy.deepcopy(rng.choice(bases))
    for _ in range(rng.randint(1, 3)):
        paths = _paths(doc)
        path = rng.choice(paths)
        action = rng.random()
        if action < 0.7:
            doc = _set(doc, path, hostile_value(rng))
        elif action < 0.8 and isinstance(doc, dict):
            doc[rng.choice(("unknown", "members", "economy", "x" * 200, ""))] = \
                hostile_value(rng)
        elif action < 0.9 and path:
            parent = doc
            for part in path[:-1]:
                parent = parent[part]
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, list) and parent:
                parent.pop()
        elif isinstance(doc, dict) and isinstance(doc.get("members"), list) \
                and doc["members"]:
            doc["members"] = doc["members"] * rng.choice((2, 30, 60, 200))
    return doc


def to_json_text(value: Any) -> str:
    """``value`` as JSON text, however hostile: very deep chains are written
    iteratively, numbers exactly as they are (``1e5000``, ``NaN`` stay what they are),
    odd types as strings."""
    if isinstance(value, list | dict) and len(value) == 1:
        openers, closers, depth = [], [], 0
        while isinstance(value, list | dict) and len(value) == 1 and depth < 100_000:
            if isinstance(value, list):
                openers.append("[")
                closers.append("]")
                value = value[0]
            else:
                ((key, value),) = value.items()
                openers.append("{" + to_json_text(str(key)) + ":")
                closers.append("}")
            depth += 1
        if depth > 50:
            return "".join(openers) + to_json_text(value) + "".join(reversed(closers))
        text = to_json_text(value)
        for opener, closer in zip(reversed(openers), reversed(closers), strict=True):
            text = opener + text + closer
        return text
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") \
            else ("NaN" if value != value else ("1e999" if value > 0 else "-1e999"))
    if isinstance(value, str):
        import json

        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ",".join(to_json_text(str(k)) + ":" + to_json_text(v)
                              for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set):
        return "[" + ",".join(to_json_text(v) for v in value) + "]"
    if isinstance(value, bytes):
        return to_json_text(value.decode("latin-1"))
    return to_json_text(f"<{type(value).__name__}>")


# -- junk files for the CLI ----------------------------------------------------------

def junk_texts(rng: random.Random) -> tuple[str, bytes]:
    """One junk facts file: (suffix, bytes)."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8))
    choice = rng.randrange(24)
    texts: list[tuple[str, str | bytes]] = [
        (".yaml", "household: {a: 1}\nx: \x00\n"),
        (".yaml", "household:\n  lawful_residence: true\x9a\n"),
        (".yaml", bomb),
        (".yaml", "members: " + "[" * 5000 + "]" * 5000),
        (".json", "[" * 5000 + "]" * 5000),
        (".json", '{"economy": {"savings": ' + "9" * 5000 + "}}"),
        (".yaml", "economy: {savings: " + "9" * 5000 + "}"),
        (".yaml", "household: {since: 2026-01-01T25:61:00Z}"),
        (".yaml", "household: {lawful_residence: [bold]x[/bold]}\n"),
        (".json", '{"economy": {"savings": 1e5000}}'),
        (".json", '{"economy": {"savings": NaN}}'),
        (".yaml", "economy: {savings: '9e999999'}\nmembers: [{age: '9e999999'}]"),
        (".yaml", ""),
        (".yaml", "# only a comment\n"),
        (".yaml", "!!python/object/apply:os.system ['touch " + CANARY_NAME + "']"),
        (".yaml", "a: !!binary AAAA\n"),
        (".yaml", "members: " + "[{age: 5}, " * 1000 + "]"),
        (".yaml", "\ufeffhousehold: {}\n"),
        (".yaml", b"\xff\xfe\x00junk"),
        (".yaml", "key: 'unterminated\n"),
        (".json", '{"a": 1,}'),
        (".yaml", "members:\n" + "".join(f"  - {{age: {i}}}\n" for i in range(10_000))),
        (".yaml", "x" * 3_000_000),
        (".json", "{" * 100 + "}"),
    ]
    suffix, text = texts[choice]
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.5 and isinstance(text, str) and len(data) < 100_000:
        # flip a few bytes to find what the fixed list does not
        buf = bytearray(data or b" ")
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        data = bytes(buf)
    return suffix, data


# -- rule-file mutations -------------------------------------------------------------

def _deep_expr(rng: random.Random) -> str:
    n = rng.choice((50, 200, 1000, 5000))
    return rng.choice((
        "(" * n + "1" + ")" * n + " > 0",
        "-" * n + "1 < 0",
        " + ".join(["1"] * rng.choice((200, 2400))) + " > 0",
        "min(" * n + "1" + ", 1)" * n + " > 0",
        "1 in " + "[" * n + "]" * n,
        "9" * 5000 + " > 1",
        "not " * n + "true",
        "１２ > 1",
        "\u0661 > 0",
        "if " * 200 + "true",
    ))


#: expressions that would run code or read files if the engine ever handed text to
#: Python; each mentions the canary so a success would leave a trace
SANDBOX = [
    f"__import__('os').system('touch {CANARY_NAME}')",
    f"open('{CANARY_NAME}', 'w')",
    f"eval(\"open('{CANARY_NAME}','w')\")",
    f"exec(\"open('{CANARY_NAME}','w')\")",
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "members.__class__",
    "household.__dict__",
    "getattr(household, '__class__')",
    "lambda: 1",
    "[x for x in members]",
    "(x := 1)",
    "f'{1}'",
    "members[0]",
    "members[0:1]",
    "household.registered.__init__.__globals__",
    "globals()",
    "locals()",
    "vars()",
    "compile('1', 'x', 'eval')",
    "__builtins__",
    "builtins.open",
    "os.system",
    "sys.modules",
    "import os",
    "from os import system",
    "def f(): pass",
    "class X: pass",
    "yield 1",
    "await x",
    "1; import os",
    "1 if True else __import__('os')",
    "min(1, key=print)",
    "param(__import__)",
    "count(members, __import__('os'))",
    "date(2026-01-01).__class__",
    "'a' * 10**10",
    "1 ** 1000000",
    "{'a': 1}",
    "{1, 2}",
    "None",
    "True",
    "print(1)",
    "input()",
    "help()",
    "exit()",
    "quit()",
    "breakpoint()",
    "memoryview(b'')",
    "bytearray(10**9)",
    "range(10**12)",
    "type('X', (), {})",
    "object.__subclasses__()",
    "super()",
    "self",
    "setattr(household, 'x', 1)",
    "delattr(household, 'x')",
    "hasattr(household, 'x')",
    "__import__",
    "__loader__",
    "__spec__",
    "_private",
    "household._x",
    "household.__class__",
    "\\x5f\\x5fimport\\x5f\\x5f",
    "ｅｖａｌ('1')",
    "еval('1')",  # Cyrillic е
    "1 and open('x')",
    "any(members, open('x'))",
    "sum(members, __class__)",
    "round(1, __import__('os'))",
    "abs(-1).real",
    "(1).__add__(2)",
    "'%s' % 1",
    "'{}'.format(1)",
    "b'1'",
    "r'1'",
    "1 @ 2",
    "1 // 2",
    "1 ** 2",
    "1 << 2",
    "~1",
    "1 | 2",
    "1 & 2",
    "1 ^ 2",
    "`id`",
    "$HOME",
    "${jndi:ldap://x}",
    "{{7*7}}",
]


def mutate_rule_file(rng: random.Random, text: str) -> str:
    """One edit of a rule file: broken YAML, hostile scalars, hostile expressions."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    choice = rng.randrange(14)
    if choice == 0:
        del lines[i]
    elif choice == 1:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif choice == 2 and ": " in lines[i]:
        key, _, _ = lines[i].partition(": ")
        lines[i] = f"{key}: {_deep_expr(rng)}"
    elif choice == 3 and "when: " in text:
        idx = [n for n, line in enumerate(lines) if "when: " in line]
        n = rng.choice(idx)
        key, _, _ = lines[n].partition("when: ")
        lines[n] = key + "when: " + rng.choice((_deep_expr(rng), rng.choice(SANDBOX)))
    elif choice == 4:
        lines[i] = lines[i] + rng.choice(("\x00", "\x9a", "\x1b[31m", "\u202e", "\t"))
    elif choice == 5:
        lines[i] = " " * rng.randint(1, 7) + lines[i]
    elif choice == 6:
        lines.insert(i, "x: " + "[" * 5000 + "]" * 5000)
    elif choice == 7:
        lines.insert(i, "y: " + "9" * 5000)
    elif choice == 8:
        lines.insert(i, "z: 2026-01-01T25:61:00Z")
    elif choice == 9:
        lines.insert(i, "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + j)}: &{chr(98 + j)} [" + ", ".join([f"*{chr(97 + j)}"] * 9) + "]"
            + "\n" for j in range(8)))
    elif choice == 10:
        lines[i] = lines[i].replace(":", "", 1)
    elif choice == 11:
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    elif choice == 12:
        lines.insert(i, "!!python/object/apply:os.system ['touch " + CANARY_NAME + "']")
    else:
        words = lines[i].split(" ")
        if words:
            j = rng.randrange(len(words))
            words[j] = rng.choice(("１", "\u0661", "-1", "1e999", "null", "~", "''", "[]", "{}",
                                   "&x", "*x", "!!str", "|", ">", "#", "'", '"', "%", "@"))
        lines[i] = " ".join(words)
    return "\n".join(lines)
