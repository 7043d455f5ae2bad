"""The case a records request names in its path, for the QA lead (the roles in `permissions.RECORDS_REQUEST_ROLES`),
within the case scope every other route applies (`app.audits.case_scope.case_get`), or 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from app.accounts.models import User
from app.audits import case_scope
from app.cases.models import Case
from app.db import SessionDep
from app.records.subject_access.permissions import RECORDS_REQUEST_ROLES
from app.web.auth import RoleGuard
from app.web.lookup import not_found

RecordsRequester = Annotated[User, Depends(RoleGuard(*RECORDS_REQUEST_ROLES))]


def requested_case_id(
    request: Request, case_id: Annotated[int, Path()], session: SessionDep, user: RecordsRequester
) -> Case:
    case = case_scope.case_get(session, user=user, case_id=case_id)
    if case is None:
        raise not_found(
            request,
            page="There is no case with that number, or it is not one you can see.",
            api=f"Case {case_id} not found",
        )
    return case


RequestedCaseId = Annotated[Case, Depends(requested_case_id)]
