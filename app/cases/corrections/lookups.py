"""The guard of the routes that correct a case's facts: the QA lead (403 for anyone else). The case itself is the
register's lookup (`app.cases.lookups.ReadableCase` / `ReadableCaseId`: the case, if the user may see it, or 404),
so a correction route takes both:

    CaseCorrector   the guard (`app.cases.corrections.permissions.CORRECTION_ROLES`)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.models import User
from app.cases.corrections.permissions import CORRECTION_ROLES
from app.web.auth import RoleGuard

CaseCorrector = Annotated[User, Depends(RoleGuard(*CORRECTION_ROLES))]
