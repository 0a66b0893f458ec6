"""The pages' one Jinja2 environment: every template autoescaped (the stock ``Jinja2Templates`` escapes only
files named ``*.html``, not our ``*.html.j2``), with the money and FTE filters every flow uses. A flow adds
its own filters to ``templates().env.filters``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

from fairshare.report.html import fte_text, money, signed_money

__all__ = ["templates"]


@cache
def templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=True)
    env.filters.update(money=money, signed_money=signed_money, fte=fte_text)
    return Jinja2Templates(env=env)
