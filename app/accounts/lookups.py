"""The user or team a route is about, if the signed-in user may manage accounts (`app.accounts.permissions`), or
404. The pages and the API take the same lookups and the same guard:

    AccountManager   the guard: the QA lead (403 for anyone else)
    ManagedUser      the user named by `user_id`
    ManagedTeam      the team named by `team_id`
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts import selectors
from app.accounts.models import Team, User
from app.accounts.permissions import ACCOUNT_ADMIN_ROLES, may_manage_accounts
from app.db import RowId, SessionDep
from app.web.auth import RoleGuard
from app.web.lookup import not_found

AccountManager = Annotated[User, Depends(RoleGuard(*ACCOUNT_ADMIN_ROLES))]
USER_NOT_FOUND = "There is no user with that number."
USER_NOT_FOUND_API = "User {id} not found"
TEAM_NOT_FOUND = "There is no team with that number."
TEAM_NOT_FOUND_API = "Team {id} not found"


def managed_user(request: Request, user_id: RowId, session: SessionDep, manager: AccountManager) -> User:
    user = selectors.user_get(session, user_id=user_id)
    if user is None or not may_manage_accounts(manager):
        raise not_found(request, page=USER_NOT_FOUND, api=USER_NOT_FOUND_API.format(id=user_id))
    return user


def managed_team(request: Request, team_id: RowId, session: SessionDep, manager: AccountManager) -> Team:
    team = selectors.team_get(session, team_id=team_id)
    if team is None or not may_manage_accounts(manager):
        raise not_found(request, page=TEAM_NOT_FOUND, api=TEAM_NOT_FOUND_API.format(id=team_id))
    return team


ManagedUser = Annotated[User, Depends(managed_user)]
ManagedTeam = Annotated[Team, Depends(managed_team)]
