"""The API routers of the workbench's flows, registered under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["register"]


def register(api: APIRouter) -> None:
    """Include every flow's router (scenarios, budgets, partner plans, grants)."""
