"""Who may manage accounts (users, their roles and training, teams): the QA lead. The one place the rule lives, as
pure functions of the user; the routes' guard (`app.accounts.lookups.AccountManager`), the lookups and the navigation
read it."""

from __future__ import annotations

from typing import Protocol

from app.accounts.roles import Role

ACCOUNT_ADMIN_ROLES: tuple[Role, ...] = (Role.QA_LEAD,)


class Person(Protocol):
    active: bool

    def has_role(self, *roles: str) -> bool: ...


def may_manage_accounts(user: Person) -> bool:
    """Users, their roles and training records, and teams: the QA lead."""
    return bool(user.active) and user.has_role(*ACCOUNT_ADMIN_ROLES)
