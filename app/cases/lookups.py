"""The case a route is about, if the signed-in user may see it (`app.audits.case_scope.case_get`: the register's
scope, and the cases an auditor audits), or 404. The pages and the API apply the same rule with the same guard
(`CaseReader`, the roles in `app.cases.scope.CASE_READER_ROLES`), and differ only in how they read the id:

    ReadableCase     `case_id` as the pages take it: any text, and what is not a case number is not found (404)
    ReadableCaseId   `case_id` as the API takes it: a whole number (anything else is bad input, 422)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from sqlmodel import Session

from app.accounts.models import User
from app.audits import case_scope
from app.cases.models import Case
from app.cases.scope import CASE_READER_ROLES
from app.db import SessionDep
from app.numbers import digits
from app.web.auth import RoleGuard
from app.web.lookup import not_found

CaseReader = Annotated[User, Depends(RoleGuard(*CASE_READER_ROLES))]
NOT_FOUND = "There is no case with that number, or it is not one you can see."
NOT_FOUND_API = "Case {id} not found"


def case_number(text: str | None) -> int | None:
    """A case number typed into an address: ASCII digits only (never another script's), or None."""
    value = (text or "").strip()
    return int(value) if digits(value) and len(value) <= 12 else None


def _readable(request: Request, session: Session, user: User, number: int | None, shown: object) -> Case:
    # Out-of-range numbers are not found like any other case you cannot see (case_get checks the range).
    case = case_scope.case_get(session, user=user, case_id=number) if number is not None else None
    if case is None:
        raise not_found(request, page=NOT_FOUND, api=NOT_FOUND_API.format(id=shown))
    return case


def readable_case(request: Request, case_id: str, session: SessionDep, user: CaseReader) -> Case:
    return _readable(request, session, user, case_number(case_id), case_id)


def readable_case_id(request: Request, case_id: Annotated[int, Path()], session: SessionDep, user: CaseReader) -> Case:
    return _readable(request, session, user, case_id, case_id)


ReadableCase = Annotated[Case, Depends(readable_case)]
ReadableCaseId = Annotated[Case, Depends(readable_case_id)]
