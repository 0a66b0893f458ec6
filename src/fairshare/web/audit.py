"""The append-only audit log: who, when, what, before and after, for every change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fairshare.web.models import AuditEntry, User

__all__ = ["record"]


def record(
    s: Session,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add one entry in the caller's transaction (it is kept only if the change is)."""
    s.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            actor=actor.email if actor else "system",
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )
