"""Which cases a user may see: one rule, used by the case list, the case page and the API alike.

A case outside a user's scope does not exist for them (404, never 403), so the rule is a SQL
condition added to every case query rather than a check after the row is read.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select

from app.accounts.models import User
from app.accounts.roles import Role
from app.audits.models import Audit
from app.cases.models import Case

# The roles that may open the case register at all; everyone else is refused (403) by the route guard.
CASE_READER_ROLES: tuple[Role, ...] = (Role.QA_LEAD, Role.HEAD_OF_SERVICE, Role.PRACTITIONER, Role.AUDITOR)
# Roles whose scope is their service area (a head of service's own, or their team's).
AREA_SCOPED_ROLES: tuple[Role, ...] = (Role.HEAD_OF_SERVICE, Role.PRACTITIONER)


def case_scope_filter(user: User) -> ColumnElement[bool] | None:
    """The SQL condition limiting cases to those `user` may see; None means every case.

    A user with several roles sees the union of what each role grants. Auditors see the cases they have
    an audit of (allocated to them, whatever its state).
    """
    if user.has_role(Role.QA_LEAD):
        return None
    grants: list[ColumnElement[bool]] = []
    area_id = user.scope_service_area_id
    if user.has_role(*AREA_SCOPED_ROLES) and area_id is not None:
        grants.append(Case.service_area_id == area_id)
    if user.has_role(Role.AUDITOR):
        grants.append(Case.id.in_(select(Audit.case_id).where(Audit.auditor_id == user.id)))
    if not grants:
        return false()
    return grants[0] if len(grants) == 1 else or_(*grants)


def scope_service_area_ids(user: User) -> set[int] | None:
    """The service areas whose cases `user` may see (None: all), to offer only those in filters."""
    if user.has_role(Role.QA_LEAD):
        return None
    area_id = user.scope_service_area_id
    return {area_id} if user.has_role(*AREA_SCOPED_ROLES) and area_id is not None else set()
