"""docs/cli.md is generated from the Typer app; this test fails when they drift.

Regenerate with `make docs` (FAIRSHARE_UPDATE_DOCS=1) and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer.main

from fairshare.cli import app

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def reference() -> str:
    root = typer.main.get_command(app)
    out = [
        "# Command-line reference",
        "",
        "Generated from the Typer app by `make docs`; `tests/test_cli_reference.py` keeps it true.",
        "Every command exits 0 on success and 1 on a user mistake, after printing each problem",
        "with its location (see [errors.md](errors.md)).",
        "",
    ]
    commands: dict[str, Any] = {}
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(cmd, "commands"):  # a group, e.g. `review`: its sub-commands
            commands |= {f"{name} {sub}": c for sub, c in cmd.commands.items()}
        else:
            commands[name] = cmd
    for name in sorted(commands):
        cmd = commands[name]
        params = [p for p in cmd.params if p.name != "help"]
        arguments = [p.name.upper() for p in params if p.param_type_name == "argument"]
        usage = " ".join(["fairshare", name, *arguments, "[OPTIONS]" if len(arguments) < len(params) else ""])
        out += [f"## `fairshare {name}`", "", (cmd.help or "").strip(), "", "```", usage.strip(), "```", ""]
        rows = []
        for p in params:
            option = p.param_type_name == "option"
            flags = ", ".join(f"`{o}`" for o in p.opts) if option else f"`{p.name.upper()}`"
            help_text = (getattr(p, "help", None) or "").strip()
            if option and not p.required and p.default not in (None, False):
                help_text += f" Default: `{p.default}`."
            rows.append(f"| {flags} | {'yes' if p.required else 'no'} | {help_text} |")
        if rows:
            out += ["| argument / option | required | meaning |", "|---|---|---|", *rows, ""]
    return "\n".join(out).rstrip() + "\n"


def test_cli_reference_is_current() -> None:
    text = reference()
    if os.environ.get("FAIRSHARE_UPDATE_DOCS") == "1":
        DOC.write_text(text, encoding="utf-8")
    assert DOC.is_file(), "docs/cli.md is missing: run `make docs`"
    assert DOC.read_text(encoding="utf-8") == text, "docs/cli.md is out of date: run `make docs` and review"
