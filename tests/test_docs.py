"""The docs stay true: every module in architecture.md, every error code in errors.md,
every YAML example in formulas.md loads and compiles."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from fairshare.errors import CODES
from fairshare.rules import compile_formula, load_formula_text

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SRC = ROOT / "src"


def test_architecture_lists_every_module() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^- `(fairshare/[\w/]+\.py)`", text, flags=re.M))
    actual = {str(p.relative_to(SRC)) for p in (SRC / "fairshare").rglob("*.py")}
    assert actual - listed == set(), "modules missing from docs/architecture.md"
    assert listed - actual == set(), "docs/architecture.md lists modules that do not exist"


def test_errors_doc_has_one_heading_per_code() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### `(\w+)`", text, flags=re.M)
    assert len(headings) == len(set(headings)), "a code is documented twice"
    assert set(headings) == set(CODES)


def _blocks() -> list[str]:
    text = (DOCS / "formulas.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


def test_formulas_doc_full_example_compiles() -> None:
    full = _blocks()[0]
    plan = compile_formula(load_formula_text(full, "docs/formulas.md"), dt.date(2025, 7, 1))
    assert [c.id for c in plan.lines] == ["base_allocation", "english_learners_weight"]


@pytest.mark.parametrize("index", range(1, len(_blocks())))
def test_formulas_doc_component_examples_compile(index: int) -> None:
    """Each kind's snippet, dropped into the full example's components (or set-asides), compiles."""
    full = yaml.safe_load(_blocks()[0])
    snippet = yaml.safe_load(_blocks()[index])
    if "set_asides" in snippet:
        full["set_asides"] = snippet["set_asides"]
        plan = compile_formula(load_formula_text(yaml.safe_dump(full, sort_keys=False), "docs"), dt.date(2025, 7, 1))
        assert [sa.id for sa in plan.set_asides] == list(snippet["set_asides"])
        return
    full["components"].update(snippet)
    # the docs' snippets use a few more inputs than the full example declares
    full["inputs"].update(
        {
            f"grade_{g}": {"label": f"grade {g}", "type": "integer", "unit": "pupils", "part_of": "enrollment"}
            for g in ("k", "01", "02", "03")
        }
    )
    text = yaml.safe_dump(full, sort_keys=False)
    plan = compile_formula(load_formula_text(text, f"docs/formulas.md block {index}"), dt.date(2025, 7, 1))
    assert set(snippet) <= {c.id for c in plan.components}
