"""Who may run the audit programme (cycles, samples, allocation): the QA lead. The one place the rule lives, as pure
functions of the user; the routes' guard (`app.sampling.lookups.ProgrammeManager`), the lookups and the navigation
read it."""

from __future__ import annotations

from typing import Protocol

from app.accounts.roles import Role

PROGRAMME_ROLES: tuple[Role, ...] = (Role.QA_LEAD,)


class Person(Protocol):
    active: bool

    def has_role(self, *roles: str) -> bool: ...


def may_manage_programme(user: Person) -> bool:
    """Cycles, samples and their allocation: the QA lead."""
    return bool(user.active) and user.has_role(*PROGRAMME_ROLES)
