"""Checking a program's spec (identification rules, a review) beyond its schema: located problems.

:class:`SpecChecker` collects problems at ``file:line:col`` of the YAML: unknown ids (with the nearest
name), expressions that do not parse (pointing at the character, as formula errors do), and numbers
written into a condition that must be cited parameters instead.
"""

from __future__ import annotations

import difflib
from typing import Any

from fairshare.errors import Problem
from fairshare.rules._yaml import Marks, key_mark, nearest_mark
from fairshare.rules.expr import Expr, ExprSyntaxError, numeric_constants, parse_expr

__all__ = ["SpecChecker", "expression_column"]

Path_ = tuple[str | int, ...]


def expression_column(text: str, line: int, col: int, offset: int) -> int:
    """The column of character ``offset`` (1-based) of an expression whose YAML scalar starts at ``line:col``
    (after the quote of a quoted scalar)."""
    lines = text.splitlines()
    quoted = 0 < line <= len(lines) and col - 1 < len(lines[line - 1]) and lines[line - 1][col - 1] in "'\""
    return col + int(quoted) + max(offset, 1) - 1


class SpecChecker:
    """Collects located problems; ``noun`` names what holds a condition in messages ("rule", "condition")."""

    def __init__(self, file: str, text: str, marks: Marks, noun: str = "condition") -> None:
        self.file, self.text, self.marks, self.noun = file, text, marks, noun
        self.problems: list[Problem] = []

    def add(self, code: str, message: str, path: Path_, hint: str | None = None, key: bool = False) -> None:
        line, col = key_mark(self.marks, path) if key else nearest_mark(self.marks, path)
        self.problems.append(Problem(code, message, file=self.file, line=line, col=col, hint=hint))

    def unknown(self, name: str, known: list[str], what: str, path: Path_, key: bool = False) -> None:
        near = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {near[0]!r}?" if near else None
        self.add("unknown_id", f"{name!r} is not {what}", path, hint=hint, key=key)

    def expr(self, source: Any, path: Path_, known: set[str], what: str, literals: bool) -> Expr | None:
        """Parse ``source``; every name must be in ``known``; without ``literals`` only 0 and 1 may be written."""
        try:
            e = parse_expr(source)
        except ExprSyntaxError as exc:
            line, col = nearest_mark(self.marks, path)
            if exc.offset is not None and line is not None and col is not None:
                col = expression_column(self.text, line, col, exc.offset)
            self.problems.append(Problem(exc.code, exc.message, file=self.file, line=line, col=col))
            return None
        for name in sorted(e.names() - known):
            self.unknown(name, sorted(known), what, path)
        if not literals:
            for value in numeric_constants(e):
                if value not in (0.0, 1.0):
                    self.add(
                        "invalid_value",
                        f"the number {value:g} in a {self.noun} must be a cited parameter",
                        path,
                        hint="declare it under `parameters` (label, value, unit, reference) and use its id",
                    )
        return e
