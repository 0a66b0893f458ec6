"""The error corpus: one small bad formula per error code, each naming its code and location.

Every ``*.yaml`` here starts with ``# expect: <code> at <line>:<col>`` (or ``at <line>`` where the
column is not meaningful). Loading and compiling it for 2025-07-01 must raise exactly one
problem, with that code, in that file, at that place.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from fairshare.errors import CODES, FormulaError
from fairshare.rules import compile_formula, load_formula

HERE = Path(__file__).parent
RULES_SRC = Path(__file__).resolve().parents[2] / "src" / "fairshare" / "rules"
RUN_DATE = dt.date(2025, 7, 1)
EXPECT = re.compile(r"^# expect: (?P<code>\w+) at (?P<line>\d+)(?::(?P<col>\d+))?\s*$")

#: codes the rules package raises for formula files that no corpus file can show
NOT_IN_CORPUS = {
    "file_not_found": "a missing file cannot be a file in the corpus; see test_missing_formula_file",
}

CORPUS = sorted(HERE.glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, int, int | None]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = EXPECT.match(first)
    assert m, f"{path.name}: first line must be '# expect: <code> at <line>[:<col>]', got {first!r}"
    return m["code"], int(m["line"]), int(m["col"]) if m["col"] else None


def _compile(path: Path) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        compile_formula(load_formula(path), RUN_DATE)
    return info.value


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_file_fails_with_its_code_and_location(path: Path) -> None:
    code, line, col = _expectation(path)
    assert code in CODES, f"{path.name} expects unregistered code {code!r}"
    err = _compile(path)
    found = [(p.code, p.line, p.col) for p in err.problems]
    assert len(err.problems) == 1, f"{path.name}: expected one problem, got {found}: {err}"
    problem = err.problems[0]
    assert err.code == code, str(err)
    assert problem.file == str(path)
    assert problem.line == line, f"{path.name}: {code} reported at line {problem.line}, expected {line}: {err}"
    if col is not None:
        assert problem.col == col, f"{path.name}: {code} reported at column {problem.col}, expected {col}: {err}"
    # the message leads with the location a user can click
    expected_loc = f"{path}:{line}" + (f":{col}" if col is not None else "")
    assert str(err).startswith(expected_loc), str(err)


def _formula_codes() -> set[str]:
    """Codes that the declare and compile steps can raise: string constants in their modules that are codes."""
    found: set[str] = set()
    for module in ("_yaml.py", "schema.py", "plan.py", "expr.py"):
        tree = ast.parse((RULES_SRC / module).read_text(encoding="utf-8"))
        found |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in CODES}
    return found


def test_every_formula_code_has_a_corpus_file() -> None:
    formula_codes = _formula_codes()
    # the codes documented for formula files are among those the loader and compiler raise
    assert {
        "yaml_syntax",
        "duplicate_key",
        "unknown_key",
        "missing_key",
        "invalid_value",
        "unknown_unit",
        "unknown_id",
        "duplicate_id",
        "cycle",
        "not_in_force",
        "expression_syntax",
        "expression_forbidden",
    } <= formula_codes
    covered = {_expectation(p)[0] for p in CORPUS}
    missing = formula_codes - covered - set(NOT_IN_CORPUS)
    assert missing == set(), f"no corpus file for {sorted(missing)}"


def test_missing_formula_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(FormulaError) as info:
        load_formula(path)
    assert info.value.code == "file_not_found"
    assert info.value.problems[0].file == str(path)
