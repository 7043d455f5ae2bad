"""Who may see moderation agreement, and whose figures: the one place the rule lives, as pure functions of the user.

    the QA lead     every moderator's and auditor's figures (the agreement page and API as they have always been)
    a moderator     their own figures only: the rounds they graded, their kappa with its interval, and the audits
                    where they disagreed with the auditor; never a colleague's figures, nor the auditors' rows

The page, the API and the navigation read `AGREEMENT_ROLES`; both routes ask `agreement_moderator` whose figures to
show.
"""

from __future__ import annotations

from typing import Protocol

from app.accounts.roles import Role

AGREEMENT_ROLES: tuple[Role, ...] = (Role.QA_LEAD, Role.MODERATOR)


class Person(Protocol):
    id: int | None
    active: bool

    def has_role(self, *roles: str) -> bool: ...


def may_read_agreement(user: Person) -> bool:
    return bool(user.active) and user.has_role(*AGREEMENT_ROLES)


def sees_every_moderator(user: Person) -> bool:
    """The whole report (every round, the auditors' rows): the QA lead."""
    return bool(user.active) and user.has_role(Role.QA_LEAD)


def agreement_moderator(user: Person) -> int | None:
    """Whose figures `user` sees: None for everyone's (the QA lead), else only their own (their id; 0, which no
    moderator has, for a user who is not a moderator, who the route's guard refuses anyway)."""
    if sees_every_moderator(user):
        return None
    return user.id if may_read_agreement(user) and user.id is not None else 0
