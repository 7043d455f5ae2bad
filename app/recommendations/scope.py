"""Who sees, raises, progresses and verifies which recommendations: the one place these rules live.

    QA lead                  every recommendation, across services
    head of service          those of their service area
    team manager             those of the teams they manage (Team.manager_id)
    owner                    their own ("My actions")
    the person who raised it the ones they raised (they may verify them)

`visible_condition` is the same rule as SQL, applied by every list, dashboard, export and API read, so a
head of service never sees another service's items anywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select
from sqlmodel import Session

from app.accounts.models import Team, User
from app.accounts.roles import Role
from app.audits.models import Audit
from app.recommendations.models import Recommendation
from app.recommendations.rules import Actor


def managed_team_ids(session: Session, *, user: User) -> set[int]:
    """The teams this user manages."""
    if user.id is None:
        return set()
    return set(session.execute(select(Team.id).where(Team.manager_id == user.id)).scalars())


def is_head_of_service_for(user: User, service_area_id: int | None) -> bool:
    return (
        user.has_role(Role.HEAD_OF_SERVICE)
        and service_area_id is not None
        and user.scope_service_area_id == service_area_id
    )


def visible_condition(session: Session, *, user: User) -> Any:
    """A WHERE clause on Recommendation limiting a query to what `user` may see."""
    if user.has_role(Role.QA_LEAD):
        return Recommendation.id.is_not(None)
    if user.id is None:
        return false()
    parts: list[Any] = [Recommendation.owner_id == user.id, Recommendation.raised_by_id == user.id]
    if user.has_role(Role.HEAD_OF_SERVICE) and user.scope_service_area_id is not None:
        parts.append(Recommendation.service_area_id == user.scope_service_area_id)
    teams = managed_team_ids(session, user=user)
    if teams:
        parts.append(Recommendation.team_id.in_(sorted(teams)))
    return or_(*parts)


def may_see(session: Session, *, user: User, item: Recommendation) -> bool:
    if user.has_role(Role.QA_LEAD) or user.id in (item.owner_id, item.raised_by_id):
        return True
    if is_head_of_service_for(user, item.service_area_id):
        return True
    return item.team_id is not None and item.team_id in managed_team_ids(session, user=user)


def may_verify(session: Session, *, user: User, item: Recommendation) -> bool:
    """A head of service for the item's area, the auditor (who raised it, or whose audit it came from) or the
    QA lead; never the owner (the rules refuse the owner whatever their roles)."""
    if user.has_role(Role.QA_LEAD) or is_head_of_service_for(user, item.service_area_id):
        return True
    if item.raised_by_id == user.id:
        return True
    if item.audit_id is not None:
        audit = session.get(Audit, item.audit_id)
        return audit is not None and audit.auditor_id == user.id
    return False


def actor_for(session: Session, *, user: User, item: Recommendation) -> Actor:
    return Actor(is_owner=item.owner_id == user.id, may_verify=may_verify(session, user=user, item=item))


def may_change_due_date(session: Session, *, user: User, item: Recommendation) -> bool:
    """Those who may verify it, and the manager of its team; not the owner alone (they ask their manager)."""
    if item.owner_id == user.id and not user.has_role(Role.QA_LEAD):
        return False
    if may_verify(session, user=user, item=item):
        return True
    return item.team_id is not None and item.team_id in managed_team_ids(session, user=user)


def may_raise_on_audit(session: Session, *, user: User, audit: Audit) -> bool:
    """The audit's auditor, a moderator of it, or the QA lead."""
    if user.has_role(Role.QA_LEAD) or audit.auditor_id == user.id:
        return True
    from app.moderation.selectors import (
        moderates,  # the moderation package imports audits; keep this local
    )

    return audit.id is not None and moderates(session, user=user, audit_id=audit.id)


def may_raise_thematic(user: User) -> bool:
    return user.has_role(Role.QA_LEAD)


def may_view_dashboard(user: User) -> bool:
    return user.has_role(Role.QA_LEAD) or (
        user.has_role(Role.HEAD_OF_SERVICE) and user.scope_service_area_id is not None
    )
