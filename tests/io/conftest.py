"""Fixtures for the io tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from io_helpers import TINY

from fairshare.rules.schema import Formula, load_formula_text


@pytest.fixture
def tiny() -> Formula:
    return load_formula_text(TINY, "tiny.yaml")


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to ``tmp_path/name`` and return the path."""

    def _write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return _write
