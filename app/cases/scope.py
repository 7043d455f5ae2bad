"""Which cases a user may see, as far as the register knows: who may open it at all, and the service area a head
of service or practitioner is limited to. The whole rule also lets auditors see the cases they audit, so it lives
with the audits: `app.audits.case_scope.case_scope_filter`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from app.accounts.models import User
from app.accounts.roles import Role
from app.cases.models import Case

# The roles that may open the case register at all; everyone else is refused (403) by the route guard.
CASE_READER_ROLES: tuple[Role, ...] = (Role.QA_LEAD, Role.HEAD_OF_SERVICE, Role.PRACTITIONER, Role.AUDITOR)
# Roles whose scope is their service area (a head of service's own, or their team's).
AREA_SCOPED_ROLES: tuple[Role, ...] = (Role.HEAD_OF_SERVICE, Role.PRACTITIONER)


def area_grant(user: User) -> ColumnElement[bool] | None:
    """The cases of the service area `user`'s role limits them to (a head of service's own, or their team's); None
    when no role of theirs grants an area."""
    area_id = user.scope_service_area_id
    if user.has_role(*AREA_SCOPED_ROLES) and area_id is not None:
        return Case.service_area_id == area_id
    return None


def scope_service_area_ids(user: User) -> set[int] | None:
    """The service areas whose cases `user` may see (None: all), to offer only those in filters."""
    if user.has_role(Role.QA_LEAD):
        return None
    area_id = user.scope_service_area_id
    return {area_id} if user.has_role(*AREA_SCOPED_ROLES) and area_id is not None else set()
