"""A team's changes that reach other areas: moving a team to another service area moves its cases and
recommendations with it, so nobody in the old area keeps seeing its children and the new area sees all of them."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from app.accounts import service as account_service
from app.accounts.models import Team, User
from app.accounts.schemas import TeamUpdate
from app.cases.models import Case
from app.cases.people import people_resolve
from app.recommendations.models import Recommendation


def team_change(session: Session, *, team: Team, data: TeamUpdate, actor: User | None) -> Team:
    """Change a team (the accounts rules); a move of service area takes its cases and recommendations along, and
    a new manager becomes the manager of its cases."""
    changed = account_service.team_update(session, team=team, data=data, actor=actor, follow_area=_follow_area)
    people_resolve(session, team_id=changed.id)
    return changed


def _follow_area(session: Session, team: Team) -> dict[str, int]:
    connection = session.connection()  # a cursor result: how many rows moved
    cases = connection.execute(
        update(Case)
        .where(col(Case.team_id) == team.id, col(Case.service_area_id).is_distinct_from(team.service_area_id))
        .values(service_area_id=team.service_area_id)
    ).rowcount
    recommendations = connection.execute(
        update(Recommendation)
        .where(
            col(Recommendation.team_id) == team.id,
            col(Recommendation.service_area_id).is_distinct_from(team.service_area_id),
        )
        .values(service_area_id=team.service_area_id)
    ).rowcount
    return {"cases": cases, "recommendations": recommendations}
