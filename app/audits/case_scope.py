"""Which cases a user may see: one rule, used by the case list, the case page and the API alike.

A case outside a user's scope does not exist for them (404, never 403), so the rule is a SQL condition added to
every case query rather than a check after the row is read. It lives with the audits because auditors see the cases
they audit; the register's own part (service areas) is `app.cases.scope`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlmodel import Session, col

from app.accounts.models import User
from app.accounts.roles import Role
from app.audits.models import Audit
from app.cases import selectors as case_selectors
from app.cases.models import Case
from app.cases.scope import area_grant
from app.pagination import Page


def case_scope_filter(user: User) -> ColumnElement[bool] | None:
    """The SQL condition limiting cases to those `user` may see; None means every case.

    A user with several roles sees the union of what each role grants. Auditors see the cases they have
    an audit of (allocated to them, whatever its state).
    """
    if user.has_role(Role.QA_LEAD):
        return None
    grants: list[ColumnElement[bool]] = []
    if (area := area_grant(user)) is not None:
        grants.append(area)
    if user.has_role(Role.AUDITOR):
        grants.append(col(Case.id).in_(select(col(Audit.case_id)).where(col(Audit.auditor_id) == user.id)))
    if not grants:
        return false()
    return grants[0] if len(grants) == 1 else or_(*grants)


def cases_page(session: Session, *, user: User, today: date, **filters: Any) -> Page[Case]:
    """The cases `user` may see that match every filter given (`app.cases.selectors.cases_page`), one page of them."""
    return case_selectors.cases_page(session, scope=case_scope_filter(user), today=today, **filters)


def case_get(session: Session, *, user: User, case_id: int) -> Case | None:
    """The case, if it exists and `user` may see it; None either way otherwise (the caller says 404)."""
    return case_selectors.case_get(session, scope=case_scope_filter(user), case_id=case_id)
