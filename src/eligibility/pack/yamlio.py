"""Safe YAML reading that remembers where every value came from.

Rule files and fact files are read with one loader built on libyaml's
``CSafeLoader`` where PyYAML has it (the pure-Python ``SafeLoader`` otherwise) that
(1) builds mappings as :class:`MarkedDict` and strings as :class:`LocStr`, both
carrying file, line and column, so later checks can point at the exact place;
(2) reads decimal numbers as exact :class:`~decimal.Decimal`, never binary floats;
(3) refuses duplicate keys, which plain YAML would silently overwrite; (4) reads
booleans the YAML 1.2 way — only ``true``/``false`` — so that ``no`` (Norway)
stays a string; and (5) bounds what a document may cost before it is built
(:mod:`eligibility.limits`): nesting depth, nodes after alias expansion, aliases
refused outright in facts, number digits and exponent. Every problem — syntax,
control characters, a bad timestamp, an oversized number — is a
:class:`YamlError` with file, line and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from eligibility.errors import Diagnostic
from eligibility.limits import (
    MAX_FILE_BYTES,
    MAX_NUMBER_DIGITS,
    MAX_NUMBER_EXPONENT,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
)

#: The fastest safe loader PyYAML offers here (libyaml's when it is built in).
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
WITH_LIBYAML = _BASE is not yaml.SafeLoader


@dataclass(frozen=True)
class Mark:
    """A 1-based position in a file."""

    file: str
    line: int
    column: int


class LocStr(str):
    """A string read from YAML, with the position of its first character.

    ``offsets`` maps an offset inside the string to a (line, column) in the file,
    which lets expression errors point inside multi-line expressions.
    """

    mark: Mark
    segments: tuple[tuple[int, int, int], ...]  # (string offset, line, column)

    def position(self, offset: int) -> Mark:
        line, col = self.mark.line, self.mark.column
        for start, seg_line, seg_col in getattr(self, "segments", ()):
            if start <= offset:
                line, col = seg_line, seg_col + (offset - start)
            else:
                break
        return Mark(self.mark.file, line, col)


class MarkedDict(dict[Any, Any]):
    """A mapping read from YAML: the mark of the mapping and of each key."""

    mark: Mark
    key_marks: dict[Any, Mark]


class YamlError(Exception):
    """A YAML file that cannot be read; carries a diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


def _segments(node: yaml.ScalarNode, value: str, text: str) -> tuple[tuple[int, int, int], ...]:
    """Map offsets in a (possibly folded) scalar to file positions."""
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    if "\n" not in raw:
        shift = 1 if node.style in ("'", '"') else 0
        return ((0, node.start_mark.line + 1, node.start_mark.column + 1 + shift),)
    raw_lines = raw.split("\n")
    first_line = node.start_mark.line
    physical: list[tuple[int, int, str]] = []  # (line, column, text)
    if node.style in ("|", ">"):
        for i, line_text in enumerate(raw_lines[1:], start=1):
            stripped = line_text.lstrip(" ")
            if stripped:
                physical.append((first_line + i + 1, len(line_text) - len(stripped) + 1,
                                 stripped))
    else:
        shift = 1 if node.style in ("'", '"') else 0
        physical.append((first_line + 1, node.start_mark.column + 1 + shift,
                         raw_lines[0][shift:]))
        for i, line_text in enumerate(raw_lines[1:], start=1):
            stripped = line_text.lstrip(" ")
            if stripped:
                physical.append((first_line + i + 1, len(line_text) - len(stripped) + 1,
                                 stripped))
    segments: list[tuple[int, int, int]] = []
    offset = 0
    for line, column, piece in physical:
        found = value.find(piece.strip()[:20], offset) if piece.strip() else -1
        begin = found if found >= 0 else offset
        segments.append((begin, line, column))
        offset = begin + len(piece.strip())
    return tuple(segments)


#: an ``&`` that may start an anchor: any not right after a letter, digit or ``=`` (an
#: anchor follows whitespace, ``[``, ``{``, ``,`` or a line start), so the ``&`` of a
#: URL's query ``?a=1&b=2`` does not cost the alias walk
_ANCHOR = re.compile(r"(?<![A-Za-z0-9=])&")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def number_problem(value: int | Decimal) -> str | None:
    """Why ``value`` is outside the documented number limits, or ``None``.

    Cheap for any size: it looks at the digit count and exponent, never at the value.
    """
    if isinstance(value, int):
        bits = abs(value).bit_length()
        if bits > 3.33 * (MAX_NUMBER_EXPONENT + 1):
            return f"a number may have at most {MAX_NUMBER_EXPONENT + 1} digits before the point"
        return None
    if not value.is_finite():
        return "not a finite number"
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) > MAX_NUMBER_DIGITS:
        return f"a number may have at most {MAX_NUMBER_DIGITS} significant digits"
    if value and exponent + len(digits) - 1 > MAX_NUMBER_EXPONENT:
        return f"a number may be at most 1e{MAX_NUMBER_EXPONENT} in size"
    return None


def number_text_problem(text: str) -> str | None:
    """Like :func:`number_problem` for a number still written as text (before it is
    converted, so ``"9e999999"`` never becomes a million-digit integer)."""
    raw = text.strip().replace("_", "")
    if len(raw) > MAX_NUMBER_DIGITS + 40:
        if raw.strip("0123456789+-.eE"):
            return None  # not a number at all: the type check says so
        return f"a number may have at most {MAX_NUMBER_DIGITS} significant digits"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None  # not a number at all: the type check says so
    return number_problem(value)


class _Loader(_BASE):  # type: ignore[valid-type,misc]
    """The project's loader: positions, decimals, no duplicates, YAML 1.2 booleans."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file = file
        self.text = text
        self.depth = 0  # of the collection being built
        self._tags: dict[str, str] = {}  # a plain scalar's text -> its resolved tag
        self._built: dict[int, Any] = {}  # id(node) -> its value (aliases share it)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # libyaml calls back here for every node; a plain scalar's tag depends on its
        # text alone (there are no path resolvers), so each distinct text is resolved once
        if kind is yaml.ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        """The value of ``node``: what ``construct_document`` gives, built directly for
        the standard tags (PyYAML's constructors for any other tag)."""
        key = id(node)
        if key in self._built:
            return self._built[key]
        tag = node.tag
        value: Any
        if isinstance(node, yaml.ScalarNode) and tag in _SCALARS:
            value = _SCALARS[tag](self, node)
        elif (isinstance(node, yaml.MappingNode) and tag == _MAP_TAG) or (
                isinstance(node, yaml.SequenceNode) and tag == _SEQ_TAG):
            if depth + 1 > MAX_YAML_DEPTH:
                raise self.fail(node, f"nested deeper than {MAX_YAML_DEPTH} levels")
            if isinstance(node, yaml.MappingNode):
                value = _mapping(self, node, depth + 1)
            else:
                value = [self.build(child, depth + 1) for child in node.value]
        else:
            self.depth = depth
            value = self.construct_object(node, deep=True)
        self._built[key] = value
        return value

    def enter(self, node: yaml.Node) -> None:
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_YAML_DEPTH} levels")

    def mark_of(self, node: yaml.Node) -> Mark:
        return Mark(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: yaml.Node, message: str) -> YamlError:
        return YamlError(Diagnostic(self.file, *_pos(node), message))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> MarkedDict:
    loader.enter(node)
    try:
        return _mapping(loader, node, None)
    finally:
        loader.depth -= 1


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> list[Any]:
    loader.enter(node)
    try:
        return [loader.construct_object(child, deep=True) for child in node.value]
    finally:
        loader.depth -= 1


def _mapping(loader: _Loader, node: yaml.MappingNode, depth: int | None) -> MarkedDict:
    """The mapping's entries built by :meth:`_Loader.build` at ``depth`` (``None``: by
    PyYAML's ``construct_object``, for a mapping inside another tag)."""
    loader.flatten_mapping(node)
    result = MarkedDict()
    result.mark = loader.mark_of(node)
    result.key_marks = {}
    build = loader.build
    for key_node, value_node in node.value:
        key = (build(key_node, depth) if depth is not None
               else loader.construct_object(key_node, deep=True))
        try:
            hash(key)
        except TypeError:
            raise loader.fail(key_node, "a mapping key must be a plain value") from None
        if key in result:
            first = result.key_marks[key]
            shown = repr(key)[:60]
            raise loader.fail(key_node, f"duplicate key {shown} "
                                        f"(first defined at line {first.line})")
        result[key] = (build(value_node, depth) if depth is not None
                       else loader.construct_object(value_node, deep=True))
        result.key_marks[key] = loader.mark_of(key_node)
    return result


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> LocStr:
    value = node.value  # what construct_scalar returns for a scalar node
    text = LocStr(value)
    text.mark = loader.mark_of(node)
    text.segments = _segments(node, value, loader.text)
    return text


def _construct_decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    raw = str(loader.construct_scalar(node)).replace("_", "")
    problem = number_text_problem(raw)
    if problem is None:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            problem = "not a finite number"
        else:
            problem = None if value.is_finite() else "not a finite number"
    if problem is not None:
        raise loader.fail(node, f"{problem}: {raw[:40]!r}")
    return value


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    raw = str(loader.construct_scalar(node)).replace("_", "").lstrip("+-")
    if len(raw.lstrip("0")) > MAX_NUMBER_EXPONENT + 1:
        raise loader.fail(node, f"a number may have at most {MAX_NUMBER_EXPONENT + 1} digits "
                                f"before the point: {raw[:40]!r}")
    value: int = loader.construct_yaml_int(node)
    return value


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError) as exc:
        raise loader.fail(node, f"cannot read {str(node.value)[:40]!r} as a date or time: "
                                f"{str(exc)[:100]}") from None


# YAML 1.2 booleans: only true/false. YAML 1.1 would read `no` (Norway!), `yes`,
# `on` and `off` as booleans.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", _BOOL_RE)
    )
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
#: The scalar constructors :meth:`_Loader.build` calls directly, by tag.
_SCALARS: dict[str, Callable[[_Loader, yaml.ScalarNode], Any]] = {
    "tag:yaml.org,2002:str": _construct_str,
    "tag:yaml.org,2002:float": _construct_decimal,
    "tag:yaml.org,2002:int": _construct_int,
    "tag:yaml.org,2002:timestamp": _construct_timestamp,
    "tag:yaml.org,2002:bool": lambda loader, node: loader.construct_yaml_bool(node),
    "tag:yaml.org,2002:null": lambda loader, node: None,
}


def _check_graph(root: yaml.Node, file: str, aliases: bool) -> None:
    """Refuse a node graph that is too deep, too large once aliases are expanded, or
    (when ``aliases`` is false) that uses an alias at all — before anything is built."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    shared = False
    mapping, sequence = yaml.MappingNode, yaml.SequenceNode
    while stack:
        node, depth = stack.pop()
        key = id(node)
        if key in seen:
            if not aliases:
                raise YamlError(Diagnostic(file, *_pos(node),
                                           "aliases (&anchor / *alias) are not allowed here"))
            shared = True
            continue
        seen.add(key)
        if depth > MAX_YAML_DEPTH:
            raise YamlError(Diagnostic(file, *_pos(node),
                                       f"nested deeper than {MAX_YAML_DEPTH} levels"))
        cls = type(node)
        if cls is mapping:
            for k, v in node.value:
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif cls is sequence:
            stack.extend((child, depth + 1) for child in node.value)
        elif cls is not yaml.ScalarNode and isinstance(node, mapping | sequence):
            stack.extend((child, depth + 1) for child in _children(node))
    if shared:
        _check_expanded(root, file)


def _check_expanded(root: yaml.Node, file: str) -> None:
    """Size and height of a graph with shared nodes (aliases), each node once."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            total = 1 + sum(size[id(c)] for c in children)
            size[key] = total
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            if total > MAX_YAML_NODES:
                raise YamlError(Diagnostic(file, *_pos(node),
                                           f"the document has more than {MAX_YAML_NODES} "
                                           "values once its aliases are expanded"))
            if height[key] > MAX_YAML_DEPTH:
                raise YamlError(Diagnostic(file, *_pos(node),
                                           f"nested deeper than {MAX_YAML_DEPTH} levels once "
                                           "its aliases are expanded"))
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlError(Diagnostic(file, *_pos(node), "an alias refers to itself"))
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YamlError(Diagnostic(file, *_pos(child), "an alias refers to itself"))
            if id(child) not in size:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def load_yaml_text(text: str, file: str, *, aliases: bool = True) -> Any:
    """Parse YAML text safely; raise :class:`YamlError` with file:line on bad input.

    ``aliases=False`` (facts) refuses every alias; otherwise (rule files) aliases are
    allowed as long as the expanded document stays within the node limit.
    """
    if len(text) > MAX_FILE_BYTES:
        raise YamlError(Diagnostic(file, 1, 1, f"the document is larger than "
                                               f"{MAX_FILE_BYTES} characters"))
    loader = _Loader(text, file)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text and _ANCHOR.search(text):
            # without an anchor no node is shared (depth is then checked as it is built)
            _check_graph(node, file, aliases)
        return loader.build(node)
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(Diagnostic(file, line, col, f"YAML syntax: {problem}")) from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character or 0)
        raise YamlError(Diagnostic(file, line, col, f"character {ord(char):#06x} is not "
                                                    "allowed in YAML (control character)")
                        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(Diagnostic(file, 1, 1, f"YAML syntax: {str(exc)[:200]}")) from None
    except RecursionError:
        raise YamlError(Diagnostic(file, 1, 1, f"nested deeper than {MAX_YAML_DEPTH} levels")
                        ) from None
    except (ValueError, OverflowError, TypeError, ArithmeticError) as exc:
        # a constructor of PyYAML's own failed on a value it cannot build
        raise YamlError(Diagnostic(file, 1, 1, f"cannot read a value: {str(exc)[:120]}")
                        ) from None
    finally:
        loader.dispose()


def read_text_file(path: Path, display: str | None = None) -> str:
    """Read a regular UTF-8 file of at most the file limit, or raise :class:`YamlError`."""
    name = display or str(path)
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise YamlError(Diagnostic(name, 1, 1, f"cannot open the file: {exc.strerror}")) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise YamlError(Diagnostic(name, 1, 1, "not a regular file"))
        if info.st_size > MAX_FILE_BYTES:
            raise YamlError(Diagnostic(name, 1, 1, f"the file is larger than {MAX_FILE_BYTES} "
                                                   "bytes"))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlError(Diagnostic(name, 1, 1, f"cannot read the file: {exc.strerror}")) from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise YamlError(Diagnostic(name, 1, 1, f"the file is larger than {MAX_FILE_BYTES} bytes"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlError(Diagnostic(name, line, 1, "the file is not UTF-8 text")) from None


def load_yaml_file(path: Path, display: str | None = None, *, aliases: bool = True) -> Any:
    """Read and parse one YAML file; errors name the file as ``display``."""
    name = display or str(path)
    return load_yaml_text(read_text_file(path, name), name, aliases=aliases)


def _json_int(text: str) -> int:
    if len(text.lstrip("-").lstrip("0")) > MAX_NUMBER_EXPONENT + 1:
        raise ValueError(f"a number may have at most {MAX_NUMBER_EXPONENT + 1} digits "
                         "before the point")
    return int(text)


def _json_decimal(text: str) -> Decimal:
    problem = number_text_problem(text)
    if problem:
        raise ValueError(problem)
    return Decimal(text)


def load_facts_text(text: str, name: str) -> Any:
    """A facts document (JSON when ``name`` ends in ``.json``, else YAML without
    aliases) as plain Python values; :class:`YamlError` with a position on any problem."""
    if not name.endswith(".json"):
        return plain(load_yaml_text(text, name, aliases=False))
    import json

    if len(text) > MAX_FILE_BYTES:
        raise YamlError(Diagnostic(name, 1, 1, f"the document is larger than "
                                               f"{MAX_FILE_BYTES} characters"))
    try:
        return json.loads(text, parse_float=_json_decimal, parse_int=_json_int,
                          parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise YamlError(Diagnostic(name, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")
                        ) from None
    except ValueError as exc:
        raise YamlError(Diagnostic(name, 1, 1, f"invalid JSON: {str(exc)[:120]}")) from None
    except RecursionError:
        raise YamlError(Diagnostic(name, 1, 1, "invalid JSON: nested too deeply")) from None


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a number")


def mark_of(value: Any, default: Mark) -> Mark:
    """The position of a value read from YAML, or ``default``."""
    return getattr(value, "mark", default)


def plain(value: Any) -> Any:
    """Strip YAML position wrappers: LocStr → str, MarkedDict → dict (recursively)."""
    if isinstance(value, LocStr):
        return str(value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
