"""Who may see and acknowledge a safeguarding escalation: the one place the rule lives, as pure functions of the user
and the escalation. The escalation's page takes `app.escalations.lookups.ReadableEscalation`; the list of them all is
the QA lead's (`ESCALATION_LIST_ROLES`, read by its route guard and the navigation).

    its recipient    sees it and acknowledges it (once)
    the QA lead      sees every escalation, and may acknowledge any
    anyone else      is told it does not exist (404)
"""

from __future__ import annotations

from typing import Protocol

from app.accounts.roles import Role
from app.escalations.models import Escalation

ESCALATION_LIST_ROLES: tuple[Role, ...] = (Role.QA_LEAD,)


class Person(Protocol):
    id: int | None
    active: bool

    def has_role(self, *roles: str) -> bool: ...


def is_recipient(user: Person, escalation: Escalation) -> bool:
    return user.id is not None and escalation.recipient_id == user.id


def may_read_escalation(user: Person, escalation: Escalation) -> bool:
    """The recipient and the QA lead; for anyone else the escalation does not exist (404)."""
    return bool(user.active) and (user.has_role(Role.QA_LEAD) or is_recipient(user, escalation))


def may_acknowledge_escalation(user: Person, escalation: Escalation) -> bool:
    """Whoever may read it says they have it in hand (the service allows it once)."""
    return may_read_escalation(user, escalation)


def may_list_escalations(user: Person) -> bool:
    return bool(user.active) and user.has_role(*ESCALATION_LIST_ROLES)
