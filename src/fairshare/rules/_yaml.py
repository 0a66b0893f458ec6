"""Safe YAML loading that keeps line marks and rejects duplicate keys.

The loader composes PyYAML's node tree (safe tags only) and builds plain Python
data from it, recording the ``(line, column)`` of every node under its path
(a tuple of keys and indexes) so that schema errors can name ``file:line:col``.
Mapping keys are always strings (an unquoted date key becomes ``YYYY-MM-DD``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from fairshare.errors import FormulaError, Problem

Path_ = tuple[str | int, ...]
#: marks[(*path, KEY)] is where the key of ``path`` is written (marks[path] is its value)
KEY = "\0key"
Marks = dict[Path_, tuple[int, int]]


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def _key_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _build(node: yaml.Node, path: Path_, marks: Marks, file: str, ctor: _Constructor) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise FormulaError(
                    Problem(
                        "invalid_value",
                        "YAML merge keys ('<<') are not supported; write the keys out",
                        file=file,
                        line=key_node.start_mark.line + 1,
                        col=key_node.start_mark.column + 1,
                    )
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise FormulaError(
                    Problem(
                        "invalid_value",
                        "mapping keys must be plain scalars",
                        file=file,
                        line=key_node.start_mark.line + 1,
                        col=key_node.start_mark.column + 1,
                    )
                )
            key = _key_text(ctor.construct_object(key_node))
            if key in out:
                first = marks.get((*path, key, KEY), (0, 0))
                raise FormulaError(
                    Problem(
                        "duplicate_key",
                        f"key {key!r} appears twice in this mapping (first at line {first[0]})",
                        file=file,
                        line=key_node.start_mark.line + 1,
                        col=key_node.start_mark.column + 1,
                        hint="keep one of the two entries",
                    )
                )
            marks[(*path, key, KEY)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, (*path, key), marks, file, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*path, i), marks, file, ctor) for i, v in enumerate(node.value)]
    value = ctor.construct_object(node)
    if isinstance(value, dt.datetime):
        return value
    return value


def load_yaml_text(text: str, file: str) -> tuple[Any, Marks]:
    """Parse YAML text into plain data plus a path -> (line, col) map."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise FormulaError(
            Problem(
                "yaml_syntax",
                f"{exc.problem or 'invalid YAML'}" + (f" {exc.context}" if exc.context else ""),
                file=file,
                line=(mark.line + 1) if mark else None,
                col=(mark.column + 1) if mark else None,
            )
        ) from None
    except yaml.YAMLError as exc:
        raise FormulaError(Problem("yaml_syntax", str(exc), file=file)) from None
    marks: Marks = {}
    if node is None:
        return None, marks
    return _build(node, (), marks, file, _Constructor()), marks


def load_yaml_file(path: Path) -> tuple[Any, Marks]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormulaError(Problem("file_not_found", "formula file does not exist", file=str(path))) from None
    except UnicodeDecodeError as exc:
        raise FormulaError(Problem("yaml_syntax", f"file is not UTF-8 text ({exc.reason})", file=str(path))) from None
    return load_yaml_text(text, str(path))


def key_mark(marks: Marks, path: Path_) -> tuple[int | None, int | None]:
    """Where the key of ``path`` is written (for errors about the key itself)."""
    hit = marks.get((*path, KEY))
    return hit if hit is not None else nearest_mark(marks, path)


def nearest_mark(marks: Marks, path: Path_) -> tuple[int | None, int | None]:
    """The mark of ``path`` or of its closest ancestor that has one."""
    p = tuple(path)
    while True:
        if p in marks:
            return marks[p]
        if not p:
            return None, None
        p = p[:-1]
