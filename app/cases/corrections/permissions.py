"""Who may correct the register's facts: the QA lead. The one place the rule lives; the routes' guard
(`app.cases.corrections.lookups.CaseCorrector`) and the case page's "Correct a fact" read it. Who may read a case's
corrections is who may read the case (`app.cases.lookups.ReadableCase`)."""

from __future__ import annotations

from typing import Protocol

from app.accounts.roles import Role

CORRECTION_ROLES: tuple[Role, ...] = (Role.QA_LEAD,)


class Person(Protocol):
    active: bool

    def has_role(self, *roles: str) -> bool: ...


def may_correct_facts(user: Person) -> bool:
    return bool(user.active) and user.has_role(*CORRECTION_ROLES)
