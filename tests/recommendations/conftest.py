"""Fixtures for recommendations: two service areas, a team with a manager, the case's worker as owner, a head of
service for each area, the QA lead, an auditor with an audit of the case, and `make_item` for rows in any state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session

from app.accounts.models import Team, User
from app.accounts.roles import Role
from app.audits.models import Audit
from app.cases.models import Case
from app.recommendations.models import Recommendation, RecommendationTheme
from tests.conftest import TEST_NOW
from tests.factories import make_audit, make_case, make_team, make_user, publish_templates

# Noon in London on the fixed "today" the tests use (2026-11-26 is a Thursday; GMT, so UTC = local).
NOW = TEST_NOW  # the suite's clock (tests/conftest.py)
TODAY = date(2026, 11, 26)


@dataclass
class World:
    lead: User  # the QA lead
    auditor: User  # the audit's auditor
    owner: User  # the case's worker (a practitioner in team)
    manager: User  # the team's manager (Team.manager_id)
    hos: User  # head of service for Safeguarding (team's area)
    other_hos: User  # head of service for Children in Care (another area)
    bystander: User  # a practitioner in the other area
    viewer: User
    team: Team  # Safeguarding
    other_team: Team  # Children in Care
    case: Case  # in team, worker = owner
    other_case: Case  # in other_team
    audit: Audit  # of case, by auditor


@pytest.fixture
def world(db: Session) -> World:
    publish_templates(db)
    team = make_team(db, name="Safeguarding Team 1", service_area="Safeguarding")
    other_team = make_team(db, name="Children in Care Team 1", service_area="Children in Care")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead")
    auditor = make_user(db, username="auditor", roles=(Role.AUDITOR,), full_name="Asha Auditor")
    owner = make_user(db, username="owner", roles=(Role.PRACTITIONER,), team=team, full_name="Wes Worker")
    manager = make_user(db, username="manager", roles=(Role.PRACTITIONER,), team=team, full_name="Maya Manager")
    hos = make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,), team=team, full_name="Hana Head")
    other_hos = make_user(
        db, username="otherhos", roles=(Role.HEAD_OF_SERVICE,), team=other_team, full_name="Olu Other"
    )
    bystander = make_user(
        db, username="bystander", roles=(Role.PRACTITIONER,), team=other_team, full_name="Bea Bystander"
    )
    viewer = make_user(db, username="viewer", roles=(Role.VIEWER,), full_name="Vic Viewer")
    team.manager_id = manager.id
    db.add(team)
    db.flush()
    case = make_case(db, team=team, child_id="CHILD0001", worker=owner, manager_name="Maya Manager")
    other_case = make_case(db, team=other_team, child_id="CHILD0002", worker_name="Bea Bystander")
    audit = make_audit(db, case=case, auditor=auditor, actor=lead)
    return World(
        lead=lead,
        auditor=auditor,
        owner=owner,
        manager=manager,
        hos=hos,
        other_hos=other_hos,
        bystander=bystander,
        viewer=viewer,
        team=team,
        other_team=other_team,
        case=case,
        other_case=other_case,
        audit=audit,
    )


def make_item(
    db: Session,
    world: World,
    *,
    case: Case | None = None,
    owner: User | None = None,
    status: str = "open",
    due_date: date = date(2026, 12, 24),
    priority: str = "normal",
    raised_at: datetime = datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    closed_at: datetime | None = None,
    theme_ids: tuple[int, ...] = (),
    **fields: Any,
) -> Recommendation:
    """A recommendation row written directly (as if raised and moved on), on `case` (default world.case)."""
    case = case or world.case
    days = None
    if status == "closed":
        closed_at = closed_at or NOW
        days = (closed_at.date() - raised_at.date()).days
    values: dict[str, Any] = {
        "text": "Update the chronology",
        "audit_id": world.audit.id if case is world.case else None,
        "case_id": case.id,
        "cycle_id": None,
        "owner_id": (owner or world.owner).id,
        "team_id": case.team_id,
        "service_area_id": case.service_area_id,
        "priority": priority,
        "due_date": due_date,
        "status": status,
        "raised_by_id": world.auditor.id,
        "raised_at": raised_at,
        "closed_at": closed_at,
        "days_to_close": days,
        "evidence": "Done" if status in ("completed", "closed") else "",
        "closed_by_id": world.hos.id if status == "closed" else None,
    }
    values.update(fields)
    item = Recommendation(**values)
    db.add(item)
    db.flush()
    for theme_id in theme_ids:
        db.add(RecommendationTheme(recommendation_id=item.id, theme_id=theme_id))
    db.flush()
    return item
