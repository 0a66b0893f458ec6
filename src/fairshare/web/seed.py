"""The demo district seeded into an empty database (``fairshare serve`` without a shared database).

SYNTHETIC: the 40 schools of the project's demo district (:func:`fairshare.programs.synthetic_schools`,
seed 2026), one demo account per role, all with the password :data:`DEMO_PASSWORD`, and a draft school
improvement grant plan (:func:`fairshare.web.grants.seed_demo_grant`). A shared
deployment (``FAIRSHARE_DATABASE_URL``) gets no demo accounts unless asked (``fairshare serve --demo``).
"""

from __future__ import annotations

from sqlalchemy import func, select

from fairshare.web.audit import record
from fairshare.web.auth import hash_password
from fairshare.web.db import Database
from fairshare.web.grants import seed_demo_grant
from fairshare.web.models import District, School, User

__all__ = ["DEMO_DISTRICT", "DEMO_PASSWORD", "DEMO_USERS", "seed_demo"]

DEMO_DISTRICT = "DEMO"
DEMO_PASSWORD = "fairshare-demo"
#: email -> (name, role, school id)
DEMO_USERS: dict[str, tuple[str, str, str | None]] = {
    "state@demo.fairshare.test": ("Sam State (state reviewer)", "state_reviewer", None),
    "budget@demo.fairshare.test": ("Dana Budget (district budget office)", "district_budget_officer", None),
    "superintendent@demo.fairshare.test": ("Ines Super (instructional superintendent)", "superintendent", None),
    "principal@demo.fairshare.test": ("Pat Principal (S001)", "principal", "S001"),
    "principal2@demo.fairshare.test": ("Quinn Principal (S002)", "principal", "S002"),
    "council@demo.fairshare.test": ("Cam Council (S001 site council)", "site_council", "S001"),
    "partner@demo.fairshare.test": ("Pia Partner (partner viewer)", "partner_viewer", None),
}


def seed_demo(db: Database) -> bool:
    """Seed the demo district into an empty database; False when it already has users."""
    from fairshare.programs.synthetic import synthetic_schools

    with db.session() as s:
        if s.scalar(select(func.count()).select_from(User)):
            return False
        s.add(District(id=DEMO_DISTRICT, name="Demo Unified School District (synthetic)"))
        s.flush()
        schools = synthetic_schools(40, 2026)
        for sid, name in zip(schools["school_id"].to_list(), schools["school_name"].to_list(), strict=True):
            s.add(School(id=sid, district_id=DEMO_DISTRICT, name=name))
        s.flush()
        hashed = hash_password(DEMO_PASSWORD)
        for email, (name, role, school) in DEMO_USERS.items():
            district = None if role in ("state_reviewer", "partner_viewer") else DEMO_DISTRICT
            s.add(User(email=email, name=name, password_hash=hashed, role=role, district_id=district, school_id=school))
        record(
            s, None, "seed_demo", "district", DEMO_DISTRICT, None, {"schools": schools.height, "users": len(DEMO_USERS)}
        )
        s.flush()
        seed_demo_grant(s, DEMO_DISTRICT)
    return True
