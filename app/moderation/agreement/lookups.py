"""The guard of the agreement page and API: the roles in `app.moderation.agreement.permissions.AGREEMENT_ROLES`
(403 for anyone else). Whose figures each reader sees is `permissions.agreement_moderator`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.models import User
from app.moderation.agreement.permissions import AGREEMENT_ROLES
from app.web.auth import RoleGuard

AgreementReader = Annotated[User, Depends(RoleGuard(*AGREEMENT_ROLES))]
