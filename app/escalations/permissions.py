"""Who may see and acknowledge a safeguarding escalation: the one place the rule lives, as pure functions of the user,
the escalation and who its chase steps told. The escalation's page and API take
`app.escalations.lookups.ReadableEscalation`; the list of them all is the QA lead's (`ESCALATION_LIST_ROLES`, read
by its route guards and the navigation).

    its recipient                         sees it and acknowledges it (once)
    someone a chase step told             the same (a head of service, once the ladder reaches them)
    the QA lead                           sees every escalation, and may acknowledge any
    anyone else                           is told it does not exist (404)
"""

from __future__ import annotations

from collections.abc import Collection
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


def may_read_escalation(user: Person, escalation: Escalation, *, chased: Collection[int] = ()) -> bool:
    """The recipient, anyone a chase step told (`chased`: their user ids) and the QA lead; for anyone else the
    escalation does not exist (404)."""
    if not user.active or user.id is None:
        return False
    return user.has_role(Role.QA_LEAD) or is_recipient(user, escalation) or user.id in chased


def may_acknowledge_escalation(user: Person, escalation: Escalation, *, chased: Collection[int] = ()) -> bool:
    """Whoever may read it says they have it in hand (the service allows it once, and not once it is withdrawn)."""
    return may_read_escalation(user, escalation, chased=chased)


def may_list_escalations(user: Person) -> bool:
    return bool(user.active) and user.has_role(*ESCALATION_LIST_ROLES)
