"""Who may import extracts into the case register (upload, preview, confirm, discard, retry, read them): the QA lead.
The one place the rule lives; the routes' guard (`app.cases.imports.lookups.ImportManager`), the lookup and the
navigation read it."""

from __future__ import annotations

from typing import Protocol

from app.accounts.roles import Role

IMPORT_ROLES: tuple[Role, ...] = (Role.QA_LEAD,)


class Person(Protocol):
    active: bool

    def has_role(self, *roles: str) -> bool: ...


def may_manage_imports(user: Person) -> bool:
    return bool(user.active) and user.has_role(*IMPORT_ROLES)
