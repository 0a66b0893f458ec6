"""The pages' Jinja2 environment: every template autoescaped (the stock ``Jinja2Templates`` escapes only
files named ``*.html``, not our ``*.html.j2``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

__all__ = ["templates"]


@cache
def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
    )
    return Jinja2Templates(env=env)
