"""Read a YAML file into plain data while remembering where every value came from.

PyYAML's composer gives nodes with marks; we build dicts/lists/scalars from them and keep a
map ``path -> (line, column)`` (1-based) so that any later error about ``topology.nodes.mail1``
can name ``topology.yaml:42``. Duplicate mapping keys are errors (PyYAML silently keeps the last).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.core.errors import ConfigError, Place

PathT = tuple[Any, ...]


@dataclass
class Source:
    """Plain data read from a YAML file plus the line of every path in it."""

    file: str
    data: Any
    marks: dict[PathT, tuple[int, int]] = field(default_factory=dict)

    def place(self, path: PathT | str) -> Place:
        """The Place of a path (a tuple, or a dotted string like ``topology.nodes.mail1.fqdn``).

        Falls back to the nearest parent that has a mark.
        """
        if isinstance(path, str):
            path = parse_dotted(path)
        probe = tuple(path)
        while probe and probe not in self.marks:
            probe = probe[:-1]
        line, col = self.marks.get(probe, (None, None))
        return Place(file=self.file, line=line, column=None, path=dotted(path))

    def error(self, path: PathT | str, message: str, allowed=None) -> ConfigError:
        return ConfigError(message, self.place(path), allowed)


def dotted(path: PathT) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_dotted(text: str) -> PathT:
    parts: list[Any] = []
    for chunk in text.split("."):
        while "[" in chunk:
            head, _, rest = chunk.partition("[")
            if head:
                parts.append(head)
            index, _, chunk = rest.partition("]")
            parts.append(int(index) if index.isdigit() else index)
        if chunk:
            parts.append(chunk)
    return tuple(parts)


_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it: ~10x faster


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader (C-accelerated when available); scalars follow the usual YAML 1.1 rules."""


def read_yaml(path: str | Path, text: str | None = None) -> Source:
    """Parse a YAML file (or ``text`` shown as that file) into a :class:`Source`.

    Raises:
        ConfigError: unreadable file, YAML syntax error, duplicate key, empty document.
    """
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("file not found", Place(file=name)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the file: {exc}", Place(file=name)) from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        if "'\\t'" in problem or (line is not None and "cannot start any token" in problem
                                    and _char_at(text, line, col) == "\t"):
            raise ConfigError("a tab character is not allowed in YAML indentation: indent with spaces",
                              Place(file=name, line=line, column=col)) from None
        if exc.context:
            problem = f"{exc.context}, {problem}"
        raise ConfigError(f"YAML syntax error: {problem}", Place(file=name, line=line, column=col)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", Place(file=name)) from None
    if node is None:
        raise ConfigError("the file is empty", Place(file=name, line=1))
    src = Source(file=name, data=None)
    src.data = _build(node, (), src, _Loader(""))
    return src


def _char_at(text: str, line: int, column: int | None) -> str:
    lines = text.splitlines()
    if column is None or not 0 < line <= len(lines):
        return ""
    row = lines[line - 1]
    return row[column - 1] if 0 < column <= len(row) else ""


def _build(node: yaml.Node, path: PathT, src: Source, constructor: yaml.SafeLoader) -> Any:
    src.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError(
                    "YAML merge keys (<<) are not supported",
                    Place(file=src.file, line=key_node.start_mark.line + 1, path=dotted(path)),
                )
            key = constructor.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise ConfigError(
                    "a mapping key must be a plain value",
                    Place(file=src.file, line=key_node.start_mark.line + 1, path=dotted(path)),
                )
            if key in out:
                first = src.marks.get(path + (key,), (None, None))[0]
                raise ConfigError(
                    f"duplicate key {key!r} (first defined on line {first})",
                    Place(file=src.file, line=key_node.start_mark.line + 1, path=dotted(path + (key,))),
                )
            out[key] = _build(value_node, path + (key,), src, constructor)
            # an error about a key (unknown, or its block value as a whole) points at the key's line
            src.marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, path + (i,), src, constructor) for i, child in enumerate(node.value)]
    value = constructor.construct_object(node, deep=True)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        # dates/timestamps stay text; the model parses them where it expects them
        value = node.value
    return value
