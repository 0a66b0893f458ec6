"""The workbench's flows: each ``routes_<flow>`` module has an API ``router`` (mounted under ``/api``),
a ``pages`` router (HTML pages) and ``NAV``: the home page's link, its path and the roles that see it."""

from __future__ import annotations

import importlib
from types import ModuleType

from fastapi import APIRouter, FastAPI

__all__ = ["FLOWS", "flows", "register"]

#: the flow modules, in the order the home page lists them
FLOWS: list[str] = ["routes_budgets", "routes_partners", "routes_scenarios", "routes_datasets", "routes_grants"]


def flows() -> list[ModuleType]:
    return [importlib.import_module(f"fairshare.web.{name}") for name in FLOWS]


def register(app: FastAPI, api: APIRouter) -> None:
    """Include every flow's API router under ``/api`` and its pages at the root."""
    for module in flows():
        api.include_router(module.router)
        app.include_router(module.pages)
