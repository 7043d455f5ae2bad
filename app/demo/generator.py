"""Loads a small, plausible, entirely synthetic department: service areas, teams, staff and training."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.accounts import service as account_service
from app.accounts.passwords import password_hash
from app.accounts.roles import Agency, Role, TrainingKind
from app.accounts.schemas import TeamCreate, TrainingCreate, UserCreate

DEMO_PASSWORD = "demo-password"

DEMO_TEAMS: dict[str, list[str]] = {
    "Front Door and MASH": ["MASH", "Assessment Team 1"],
    "Early Help": ["Early Help North", "Early Help South"],
    "Safeguarding": ["Safeguarding Team 1", "Safeguarding Team 2"],
    "Children in Care": ["Children in Care Team", "Leaving Care Team"],
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    roles: tuple[Role, ...]
    team: str | None
    heads: str | None = None
    login: bool = True  # listed among the demo logins printed by `make run`
    agency: Agency | None = None  # a partner agency's representative's agency


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("qa.lead", "Quinn Adebayo", (Role.QA_LEAD, Role.AUDITOR, Role.MODERATOR), None),
    DemoUser("auditor", "Asha Patel", (Role.AUDITOR,), "Safeguarding Team 2"),
    DemoUser("moderator", "Morgan Hughes", (Role.MODERATOR, Role.AUDITOR), "Children in Care Team"),
    DemoUser("hos", "Harriet Osei", (Role.HEAD_OF_SERVICE, Role.AUDITOR), None, heads="Safeguarding"),
    DemoUser("practitioner", "Priya Shah", (Role.PRACTITIONER,), "Safeguarding Team 1"),
    DemoUser("viewer", "Victor Lane", (Role.VIEWER,), None),
    DemoUser("t.brennan", "Tom Brennan", (Role.AUDITOR, Role.PRACTITIONER), "MASH", login=False),
    DemoUser("r.kowalski", "Rosa Kowalski", (Role.AUDITOR, Role.PRACTITIONER), "Early Help North", login=False),
    DemoUser("d.okafor", "David Okafor", (Role.HEAD_OF_SERVICE,), None, heads="Children in Care", login=False),
    DemoUser("s.ahmed", "Sana Ahmed", (Role.TEAM_MANAGER, Role.PRACTITIONER), "Safeguarding Team 1"),  # its manager
    DemoUser("l.murray", "Lewis Murray", (Role.PRACTITIONER,), "Children in Care Team", login=False),
    DemoUser("j.evans", "Jade Evans", (Role.PRACTITIONER,), "Assessment Team 1", login=False),
    # Partner agencies' representatives for multi-agency audits (with a current partner agreement).
    DemoUser("police.rep", "Jane Morris", (Role.PARTNER,), None, agency=Agency.POLICE),
    DemoUser("health.rep", "Ade Bello", (Role.PARTNER,), None, agency=Agency.HEALTH),
)


def demo_logins() -> list[DemoUser]:
    return [u for u in DEMO_USERS if u.login]


def demo_data_load(session: Session, *, today: date) -> None:
    """Create the demo department. The caller commits."""
    teams = {}
    for area, names in DEMO_TEAMS.items():
        for name in names:
            teams[name] = account_service.team_create(
                session, data=TeamCreate(name=name, service_area=area), actor=None
            )
    shared_hash = password_hash(DEMO_PASSWORD)
    for demo in DEMO_USERS:
        user = account_service.user_create(
            session,
            data=UserCreate(
                username=demo.username,
                password=DEMO_PASSWORD,
                full_name=demo.full_name,
                email=f"{demo.username}@example.org",
                roles=list(demo.roles),
                team_id=teams[demo.team].id if demo.team else None,
                service_area=demo.heads,
                agency=demo.agency,
                partner_agreement_until=today + timedelta(days=365) if demo.agency else None,
            ),
            actor=None,
            hashed_password=shared_hash,
        )
        for kind, role in ((TrainingKind.AUDITOR, Role.AUDITOR), (TrainingKind.MODERATOR, Role.MODERATOR)):
            if role in demo.roles:
                completed = today - timedelta(days=200 + 30 * len(demo.username))
                account_service.training_record_add(
                    session,
                    user=user,
                    data=TrainingCreate(kind=kind, completed_on=completed, expires_on=completed + timedelta(days=730)),
                    actor=None,
                )
    # One auditor whose training has lapsed, so the "expired" state is visible.
    lapsed = account_selectors.user_by_username(session, username="r.kowalski")
    if lapsed is not None:
        account_service.training_record_add(
            session,
            user=lapsed,
            data=TrainingCreate(
                kind=TrainingKind.MODERATOR,
                completed_on=today - timedelta(days=800),
                expires_on=today - timedelta(days=70),
            ),
            actor=None,
        )
