"""Who may see, progress, verify and re-date which recommendation, and who may raise them: the one place these rules
live, as pure functions of the user and the recommendation's facts (`RecommendationAccess`, loaded once per request by
`app.recommendations.scope.recommendation_access`).

    the QA lead                  every recommendation, across services; verifies, re-dates, raises thematic ones
    a head of service            those of their service area; verifies and re-dates them
    the manager of its team      (Team.manager_id) those of their team; re-dates them
    its owner                    their own ("My actions"): progresses them, never verifies them
    the person who raised it     the ones they raised; verifies them
    the auditor of its audit     those raised from their audit; verifies them
    a moderator of its audit     those raised from an audit they moderated (not while grading it blind: the
                                 audit itself is hidden from them until they have graded)

`app.recommendations.scope.visible_condition` is the read rule as SQL, for lists, dashboards and exports. Raising
from an audit is the audit's rule (`app.audits.permissions.may_raise_recommendation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.accounts.roles import Role
from app.recommendations.models import Recommendation

# Who works with recommendations at all (which ones: the rules below): everyone but a read-only viewer and a partner
# agency's representative. The pages, the API and the navigation all read this.
RECOMMENDATION_ROLES: tuple[Role, ...] = (
    Role.QA_LEAD,
    Role.AUDITOR,
    Role.MODERATOR,
    Role.HEAD_OF_SERVICE,
    Role.TEAM_MANAGER,
    Role.PRACTITIONER,
    Role.PARTNER,  # a partner agency's representative owns the panel's actions for their agency
)
# Who may raise one from an audit's finding (which audits: the audit's rule).
RAISER_ROLES: tuple[Role, ...] = (Role.QA_LEAD, Role.AUDITOR, Role.MODERATOR)
# The recommendations dashboard and learning themes (a head of service needs a service area: `may_view_dashboard`).
DASHBOARD_ROLES: tuple[Role, ...] = (Role.QA_LEAD, Role.HEAD_OF_SERVICE)


class Person(Protocol):
    """The parts of a user the rules read (app.accounts.models.User)."""

    id: int | None
    active: bool

    @property
    def scope_service_area_id(self) -> int | None: ...

    def has_role(self, *roles: str) -> bool: ...


@dataclass(frozen=True)
class RecommendationAccess:
    """The facts about one recommendation that decide who may see or change it."""

    item: Recommendation
    team_manager_id: int | None = None  # the manager of the item's team (Team.manager_id)
    audit_auditor_id: int | None = None  # the auditor of the audit it was raised from
    audit_moderator_ids: frozenset[int] = frozenset()  # the moderators of any round of that audit
    audit_blind_ids: frozenset[int] = frozenset()  # ...of whom these are grading it blind, not yet graded


def _is(user: Person, user_id: int | None) -> bool:
    return user.id is not None and user_id is not None and user.id == user_id


# --- Who someone is to the recommendation ----------------------------------------------------------------------


def is_owner(user: Person, access: RecommendationAccess) -> bool:
    return _is(user, access.item.owner_id)


def raised_it(user: Person, access: RecommendationAccess) -> bool:
    return _is(user, access.item.raised_by_id)


def is_head_of_service_for(user: Person, service_area_id: int | None) -> bool:
    return (
        user.has_role(Role.HEAD_OF_SERVICE)
        and service_area_id is not None
        and user.scope_service_area_id == service_area_id
    )


def heads_its_area(user: Person, access: RecommendationAccess) -> bool:
    return is_head_of_service_for(user, access.item.service_area_id)


def manages_its_team(user: Person, access: RecommendationAccess) -> bool:
    return access.item.team_id is not None and _is(user, access.team_manager_id)


def audited_it(user: Person, access: RecommendationAccess) -> bool:
    """The auditor of the audit it was raised from."""
    return access.item.audit_id is not None and _is(user, access.audit_auditor_id)


def moderated_it(user: Person, access: RecommendationAccess) -> bool:
    """A moderator of the audit it was raised from, unless still grading that audit blind."""
    return (
        access.item.audit_id is not None
        and user.id is not None
        and user.id in access.audit_moderator_ids
        and user.id not in access.audit_blind_ids
    )


# --- The rules ------------------------------------------------------------------------------------------------


def may_read_recommendation(user: Person, access: RecommendationAccess) -> bool:
    """Its page and API, and every move or change on it (which ones: the rules below and `app.recommendations.rules`)."""
    if not user.active:
        return False
    if user.has_role(Role.QA_LEAD):
        return True
    return (
        is_owner(user, access)
        or raised_it(user, access)
        or heads_its_area(user, access)
        or manages_its_team(user, access)
        or audited_it(user, access)
        or moderated_it(user, access)
    )


def may_verify(user: Person, access: RecommendationAccess) -> bool:
    """A head of service for its area, the auditor (who raised it, or whose audit it came from) or the QA lead;
    never the owner (the rules refuse the owner whatever their roles)."""
    if not user.active:
        return False
    return (
        user.has_role(Role.QA_LEAD)
        or heads_its_area(user, access)
        or raised_it(user, access)
        or audited_it(user, access)
    )


def may_change_due_date(user: Person, access: RecommendationAccess) -> bool:
    """Those who may verify it, and the manager of its team; not the owner alone (they ask their manager)."""
    if is_owner(user, access) and not user.has_role(Role.QA_LEAD):
        return False
    return may_verify(user, access) or (bool(user.active) and manages_its_team(user, access))


def may_raise_thematic(user: Person) -> bool:
    """A recommendation from a cycle's thematic finding: the QA lead."""
    return bool(user.active) and user.has_role(Role.QA_LEAD)


def may_view_dashboard(user: Person) -> bool:
    """The dashboard and the learning themes: the QA lead, or a head of service who has a service area."""
    return user.has_role(Role.QA_LEAD) or (
        user.has_role(Role.HEAD_OF_SERVICE) and user.scope_service_area_id is not None
    )
