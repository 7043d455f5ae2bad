"""An audit's life across areas: saving answers raises (or withdraws) safeguarding escalations, and submitting selects the audit
for moderation (or completes it).

Each flow calls the areas' services in order, in the caller's transaction (the request's session, committed once):
the audit's own rules in `app.audits.service`, the escalation's in `app.escalations.service`, moderation's in
`app.moderation.service`. None of those services imports another; this module is where they meet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.accounts.models import User
from app.audits import selectors as audit_selectors
from app.audits import service as audit_service
from app.audits.models import Audit
from app.escalations import service as escalation_service
from app.moderation import service as moderation_service

if TYPE_CHECKING:
    from app.config import Settings


def audit_answers_save(
    session: Session,
    *,
    audit: Audit,
    version: int,
    answers: dict[str, Any],
    actor: User,
    escalation_recipient_id: int | None = None,
    based_on: Mapping[str, int] | None = None,
    withdrawal_reason: str | None = None,
    settings: Settings | None = None,
) -> Audit:
    """Save the answers that changed (a partial save is normal; an empty value clears an answer), and raise, update
    or withdraw the safeguarding escalation they call for (raising or withdrawing it tells people: emails in the
    outbox and in-app notifications, in this transaction, with links from `settings`, default the process's).

    `version` is the audit version the answers were based on (`based_on` may give an older one per question); a save
    is refused, storing nothing, on any conflict (`audit_service.audit_answers_check`). A safeguarding Yes is kept
    even while its description or recipient is missing (a draft concern) and escalated in the save that completes it.
    Changing the answer from Yes while its escalation waits for acknowledgement withdraws it, and needs
    `withdrawal_reason` (without one the save is refused, naming `withdrawal_reason`).
    """
    checked = audit_service.audit_answers_check(
        session, audit=audit, version=version, answers=answers, actor=actor, based_on=based_on
    )
    # Checked before anything is stored: a recipient who may not be told refuses the save, naming the field.
    safeguarding = escalation_service.escalation_prepare(
        session,
        audit=audit,
        definition=checked.definition,
        answers=checked.changes,
        recipient_id=escalation_recipient_id,
        withdrawal_reason=withdrawal_reason,
    )
    recipient_id = safeguarding.chosen_id if safeguarding and safeguarding.is_yes else audit.safeguarding_recipient_id
    stored = audit_service.audit_answers_store(
        session, audit=audit, actor=actor, checked=checked, safeguarding_recipient_id=recipient_id
    )
    if stored:
        escalation_service.escalation_from_answers(
            session, audit=audit, actor=actor, change=safeguarding, settings=settings
        )
    return audit


def audit_submit(
    session: Session, *, audit: Audit, version: int, actor: User, settings: Settings | None = None
) -> Audit:
    """Submit: every required visible question answered and valid, and any safeguarding concern sent, or a
    ValidationFailed naming each one; then selection for moderation, with `settings` (default: the process's) for the
    moderation rate, or completion."""
    _, definition = audit_selectors.audit_template(session, audit)
    unsent = escalation_service.escalation_submit_errors(session, audit=audit, definition=definition)
    audit_service.audit_mark_submitted(session, audit=audit, version=version, actor=actor, problems=unsent)
    moderation_service.moderation_on_submit(session, audit=audit, actor=actor, settings=settings)
    return audit
