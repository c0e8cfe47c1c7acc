"""Safe YAML reading that remembers where every value came from.

Rule files are loaded with a ``SafeLoader`` subclass that (1) builds mappings as
:class:`MarkedDict` and strings as :class:`LocStr`, both carrying file, line and
column, so later checks can point at the exact place; (2) reads decimal numbers as
exact :class:`~decimal.Decimal`, never binary floats; (3) refuses duplicate
keys, which plain YAML would silently overwrite; and (4) reads booleans the YAML
1.2 way — only ``true``/``false`` — so that ``no`` (Norway) stays a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from eligibility.errors import Diagnostic


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


def _segments(node: yaml.ScalarNode, value: str) -> tuple[tuple[int, int, int], ...]:
    """Map offsets in a (possibly folded) scalar to file positions."""
    buffer = node.start_mark.buffer
    if buffer is None or "\n" not in buffer[node.start_mark.index : node.end_mark.index]:
        shift = 1 if node.style in ("'", '"') else 0
        return ((0, node.start_mark.line + 1, node.start_mark.column + 1 + shift),)
    raw_lines = buffer[node.start_mark.index : node.end_mark.index].split("\n")
    first_line = node.start_mark.line
    physical: list[tuple[int, int, str]] = []  # (line, column, text)
    if node.style in ("|", ">"):
        for i, raw in enumerate(raw_lines[1:], start=1):
            stripped = raw.lstrip(" ")
            if stripped:
                physical.append((first_line + i + 1, len(raw) - len(stripped) + 1, stripped))
    else:
        shift = 1 if node.style in ("'", '"') else 0
        physical.append((first_line + 1, node.start_mark.column + 1 + shift, raw_lines[0][shift:]))
        for i, raw in enumerate(raw_lines[1:], start=1):
            stripped = raw.lstrip(" ")
            if stripped:
                physical.append((first_line + i + 1, len(raw) - len(stripped) + 1, stripped))
    segments: list[tuple[int, int, int]] = []
    offset = 0
    for line, column, text in physical:
        found = value.find(text.strip()[:20], offset) if text.strip() else -1
        start = found if found >= 0 else offset
        segments.append((start, line, column))
        offset = start + len(text.strip())
    return tuple(segments)


_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _make_loader(file: str) -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def mark_of(node: yaml.Node) -> Mark:
        return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> MarkedDict:
        loader.flatten_mapping(node)
        result = MarkedDict()
        result.mark = mark_of(node)
        result.key_marks = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise YamlError(
                    Diagnostic(file, *_pos(key_node), "a mapping key must be a plain value")
                ) from None
            if key in result:
                first = result.key_marks[key]
                raise YamlError(
                    Diagnostic(
                        file,
                        *_pos(key_node),
                        f"duplicate key {key!r} (first defined at line {first.line})",
                    )
                )
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_marks[key] = mark_of(key_node)
        return result

    def construct_str(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> LocStr:
        value = loader.construct_scalar(node)
        text = LocStr(value)
        text.mark = mark_of(node)
        text.segments = _segments(node, value)
        return text

    def construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
        raw = str(loader.construct_scalar(node)).replace("_", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise YamlError(
                Diagnostic(file, *_pos(node), f"not a finite number: {raw!r}")
            ) from None
        if not value.is_finite():
            raise YamlError(Diagnostic(file, *_pos(node), f"not a finite number: {raw!r}"))
        return value

    # YAML 1.2 booleans: only true/false. YAML 1.1 would read `no` (Norway!), `yes`,
    # `on` and `off` as booleans.
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for first in "tTfF":
        Loader.yaml_implicit_resolvers.setdefault(first, []).insert(
            0, ("tag:yaml.org,2002:bool", _BOOL_RE)
        )
    Loader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    Loader.add_constructor("tag:yaml.org,2002:str", construct_str)
    Loader.add_constructor("tag:yaml.org,2002:float", construct_decimal)
    return Loader


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML text safely; raise :class:`YamlError` with file:line on bad input."""
    safe_loader: yaml.SafeLoader = _make_loader(file)(text)  # a SafeLoader subclass
    try:
        return safe_loader.get_single_data()
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(Diagnostic(file, line, col, f"YAML syntax: {problem}")) from None
    except yaml.YAMLError as exc:
        raise YamlError(Diagnostic(file, 1, 1, f"YAML syntax: {exc}")) from None
    finally:
        safe_loader.dispose()


def load_yaml_file(path: Path, display: str | None = None) -> Any:
    """Read and parse one YAML file; errors name the file as ``display``."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise YamlError(Diagnostic(name, 1, 1, "the file is not UTF-8 text")) from None
    return load_yaml_text(text, name)


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
