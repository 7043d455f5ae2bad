"""The recommendation rules (`app.recommendations.permissions`) applied to the database: the facts they decide on,
loaded for one recommendation, and the read rule as SQL.

`visible_condition` is `permissions.may_read_recommendation` as a WHERE clause, applied by every list, dashboard,
export and API read, so a head of service never sees another service's items anywhere, and the auditor and the
moderators of an audit see the recommendations raised from it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlmodel import Session

from app.accounts.models import Team, User
from app.accounts.roles import Role
from app.audits import permissions as audit_permissions
from app.audits.models import Audit
from app.moderation.audit_access import ALLOCATED, audit_access
from app.moderation.models import Moderation
from app.recommendations import permissions
from app.recommendations.models import Recommendation
from app.recommendations.permissions import RecommendationAccess, is_head_of_service_for
from app.recommendations.rules import Actor

__all__ = [
    "actor_for",
    "is_head_of_service_for",
    "managed_team_ids",
    "may_change_due_date",
    "may_raise_on_audit",
    "may_raise_thematic",
    "may_see",
    "may_verify",
    "may_view_dashboard",
    "recommendation_access",
    "visible_condition",
]

may_raise_thematic = permissions.may_raise_thematic
may_view_dashboard = permissions.may_view_dashboard


def managed_team_ids(session: Session, *, user: User) -> set[int]:
    """The teams this user manages."""
    if user.id is None:
        return set()
    return set(session.execute(select(Team.id).where(Team.manager_id == user.id)).scalars())


def recommendation_access(session: Session, item: Recommendation) -> RecommendationAccess:
    """The facts `app.recommendations.permissions` decides on: its team's manager, and its audit's auditor and
    moderators (who moderates it blind, as the audit's own rules count them)."""
    team_manager_id = (
        session.execute(select(Team.manager_id).where(Team.id == item.team_id)).scalar_one_or_none()
        if item.team_id is not None
        else None
    )
    audit = session.get(Audit, item.audit_id) if item.audit_id is not None else None
    if audit is None:
        return RecommendationAccess(item=item, team_manager_id=team_manager_id)
    facts = audit_access(session, audit)
    return RecommendationAccess(
        item=item,
        team_manager_id=team_manager_id,
        audit_auditor_id=audit.auditor_id,
        audit_moderator_ids=facts.moderator_ids,
        audit_blind_ids=facts.blind_ids,
    )


def visible_condition(session: Session, *, user: User) -> Any:
    """A WHERE clause on Recommendation limiting a query to what `user` may see (`may_read_recommendation`)."""
    if not user.active or user.id is None:
        return false()
    if user.has_role(Role.QA_LEAD):
        return Recommendation.id.is_not(None)
    parts: list[Any] = [Recommendation.owner_id == user.id, Recommendation.raised_by_id == user.id]
    if user.has_role(Role.HEAD_OF_SERVICE) and user.scope_service_area_id is not None:
        parts.append(Recommendation.service_area_id == user.scope_service_area_id)
    teams = managed_team_ids(session, user=user)
    if teams:
        parts.append(Recommendation.team_id.in_(sorted(teams)))
    parts.append(Recommendation.audit_id.in_(select(Audit.id).where(Audit.auditor_id == user.id)))
    # A moderator of the audit, unless grading it blind: their rounds of it, none of them a blind one not yet graded
    # (a moderator's blind round is their latest: a new round comes only after the last was decided).
    blind = select(Moderation.audit_id).where(
        Moderation.moderator_id == user.id, Moderation.blind.is_(True), Moderation.status == ALLOCATED
    )
    moderated = select(Moderation.audit_id).where(Moderation.moderator_id == user.id)
    parts.append(and_(Recommendation.audit_id.in_(moderated), Recommendation.audit_id.not_in(blind)))
    return or_(*parts)


# --- The rules, for callers holding a session and a recommendation (the services) -----------------------------


def may_see(session: Session, *, user: User, item: Recommendation) -> bool:
    return permissions.may_read_recommendation(user, recommendation_access(session, item))


def may_verify(session: Session, *, user: User, item: Recommendation) -> bool:
    return permissions.may_verify(user, recommendation_access(session, item))


def may_change_due_date(session: Session, *, user: User, item: Recommendation) -> bool:
    return permissions.may_change_due_date(user, recommendation_access(session, item))


def actor_for(session: Session, *, user: User, item: Recommendation) -> Actor:
    return Actor(is_owner=item.owner_id == user.id, may_verify=may_verify(session, user=user, item=item))


def may_raise_on_audit(session: Session, *, user: User, audit: Audit) -> bool:
    """The audit's rule: its auditor, a moderator of it (once they see its grades) or the QA lead."""
    return audit_permissions.may_raise_recommendation(user, audit_access(session, audit))
