"""Raising a safeguarding escalation from an audit's answers, and acknowledging it.

A save that answers the template's safeguarding question "Yes" is escalated once it has a description
(the question's explanation) and someone to tell (the case's team manager unless the auditor names
another person). Until then the Yes is kept as a draft concern, "not yet sent" (never thrown away):
the save that completes it raises the escalation (`escalation_from_answers`), in the same transaction,
so it never waits for the audit to be submitted; submitting needs it sent. One escalation per audit
is open at a time; it stands if the answer changes later (the trail records the change). The
description is case detail: it stays in the escalation and never goes into the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_templates.schema import TemplateDefinition, explanation_key
from app.audit_trail.service import audit_record
from app.audits.models import Audit
from app.audits.selectors import audit_answers
from app.cases.models import Case
from app.db import claim_version
from app.errors import Conflict, NotFound, ValidationFailed
from app.escalations import permissions, selectors
from app.escalations.models import Escalation
from app.escalations.selectors import RECIPIENT_FIELD

NOTE_FIELD = "note"
NOTE_MAX_LENGTH = 2000
NOT_FOUND = "There is no safeguarding escalation with that number, or it is not one you can see."

# Two saves describing the same concern at once: the second is told, and its text is not lost on the audit.
DESCRIBE_STALE = "Someone else changed this concern's description at the same time. Check it and save again."


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        cleaned = value.replace("\x00", "").strip()
        return cleaned or None
    return None


@dataclass(frozen=True)
class SafeguardingSave:
    """What a save does to the safeguarding answer, worked out before anything is stored."""

    question_key: str
    was_yes: bool
    is_yes: bool
    answer: Any  # the answer once saved (None: cleared)
    description: str | None
    open: Escalation | None
    raise_new: bool
    recipient: User | None  # for a new escalation: None while nobody can be told yet (a draft concern)
    chosen_id: int | None  # whom the auditor chose (kept on the audit while the concern is a draft)


def escalation_prepare(
    session: Session,
    *,
    audit: Audit,
    definition: TemplateDefinition,
    answers: Mapping[str, Any],
    recipient_id: int | None,
) -> SafeguardingSave | None:
    """Work out, before a save is stored, what it does to the safeguarding concern. A Yes without a description or
    anyone to tell is a draft: kept, not yet sent. Only a recipient who may not be told refuses the save (a
    ValidationFailed naming the field). None when the save does not touch the safeguarding answer."""
    question = definition.safeguarding_question
    if question is None:
        return None
    explain = explanation_key(question.key)
    if question.key not in answers and explain not in answers and recipient_id is None:
        return None
    stored = audit_answers(session, audit=audit)
    merged = {**stored, **answers}
    before, after = stored.get(question.key), merged.get(question.key)
    if isinstance(after, str):
        after = after.strip() or None
    was_yes, is_yes = before == "yes", after == "yes"
    assert audit.id is not None
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    chosen_id = recipient_id if recipient_id is not None else audit.safeguarding_recipient_id
    if is_yes and recipient_id is not None:
        _, problem = selectors.recipient_resolve(session, case=case, recipient_id=recipient_id)
        if problem:
            raise ValidationFailed({RECIPIENT_FIELD: problem})
    open_ = selectors.open_escalation_for_audit(session, audit_id=audit.id)
    # A Yes already escalated (even if acknowledged) is not raised again by a later save; a new Yes, or a Yes
    # still waiting to be sent, is.
    raise_new = (
        is_yes
        and open_ is None
        and (not was_yes or selectors.safeguarding_pending(session, audit=audit, question_key=question.key))
    )
    recipient = selectors.recipient_resolve(session, case=case, recipient_id=chosen_id)[0] if raise_new else None
    return SafeguardingSave(
        question_key=question.key,
        was_yes=was_yes,
        is_yes=is_yes,
        answer=after,
        description=_text(merged.get(explain)),
        open=open_,
        raise_new=raise_new,
        recipient=recipient,
        chosen_id=chosen_id,
    )


def escalation_submit_errors(session: Session, *, audit: Audit, definition: TemplateDefinition) -> dict[str, str]:
    """A safeguarding Yes not yet sent stops a submission: who must be told is named by the `RECIPIENT_FIELD`
    (a missing description is already a missing required answer)."""
    question = definition.safeguarding_question
    if question is None or audit.id is None:
        return {}
    if selectors.open_escalation_for_audit(session, audit_id=audit.id) is not None:
        return {}
    if not selectors.safeguarding_pending(session, audit=audit, question_key=question.key):
        return {}
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    if selectors.recipient_resolve(session, case=case, recipient_id=audit.safeguarding_recipient_id)[0] is None:
        return {RECIPIENT_FIELD: "The safeguarding concern has not been sent: select who must be told"}
    return {}


def escalation_from_answers(
    session: Session, *, audit: Audit, actor: User, change: SafeguardingSave | None
) -> Escalation | None:
    """After the answers are stored: raise the escalation a Yes calls for, keep an open one's description current,
    and record an answer changed away from Yes (the escalation stands). Returns the escalation raised or updated."""
    if change is None:
        return None
    assert audit.id is not None and actor.id is not None
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    found: Escalation | None = None
    if change.raise_new and change.recipient is not None and change.description is not None:
        found = Escalation(
            audit_id=audit.id,
            case_id=audit.case_id,
            raised_by_id=actor.id,
            recipient_id=change.recipient.id,
            description=change.description,
        )
        session.add(found)
        session.flush()
        audit_record(
            session,
            actor=actor,
            action="escalation.raise",
            summary=(
                f"Raised a safeguarding escalation on audit {audit.id} (child {case.child_id}) "
                f"to {change.recipient.full_name}"
            ),
            entity_type="escalation",
            entity_id=found.id,
            after={"audit_id": audit.id, "case_id": audit.case_id, "recipient_id": change.recipient.id},
        )
    elif (
        change.is_yes
        and change.open is not None
        and change.description is not None
        and change.description != change.open.description
    ):
        found = change.open
        claim_version(session, found, found.version, stale=DESCRIBE_STALE, description=change.description)
        audit_record(
            session,
            actor=actor,
            action="escalation.describe",
            summary=f"Changed the description of safeguarding escalation {found.id} on audit {audit.id}",
            entity_type="escalation",
            entity_id=found.id,
            after={"version": found.version},
        )
    if change.was_yes and not change.is_yes:
        standing = selectors.escalations_for_audit(session, audit_id=audit.id)
        if standing:
            latest = standing[-1]
            audit_record(
                session,
                actor=actor,
                action="escalation.answer_changed",
                summary=(
                    f"The safeguarding answer on audit {audit.id} changed from Yes to "
                    f"{_answer_label(change.answer)}; escalation {latest.id} stands"
                ),
                entity_type="escalation",
                entity_id=latest.id,
                before={"answer": "yes"},
                after={"answer": change.answer},
            )
    return found


def _answer_label(value: Any) -> str:
    return {"no": "No", "na": "Not applicable", None: "no answer"}.get(value, str(value))


def escalation_view_record(session: Session, *, escalation: Escalation, viewer: User) -> None:
    """Reading an escalation is reading a child's record: who and when go in the trail."""
    child_id = session.execute(select(Case.child_id).where(Case.id == escalation.case_id)).scalar_one_or_none()
    audit_record(
        session,
        actor=viewer,
        action="escalation.view",
        summary=f"Viewed safeguarding escalation {escalation.id} (child {child_id})",
        entity_type="escalation",
        entity_id=escalation.id,
    )


def escalation_acknowledge(session: Session, *, escalation: Escalation, actor: User, note: str) -> Escalation:
    """The recipient (or the QA lead) says they have it in hand; once only (a second time is a Conflict)."""
    if not permissions.may_acknowledge_escalation(actor, escalation):
        raise NotFound(NOT_FOUND)
    cleaned = note.replace("\x00", "").strip()
    if len(cleaned) > NOTE_MAX_LENGTH:
        raise ValidationFailed({NOTE_FIELD: f"The note must be {NOTE_MAX_LENGTH:,} characters or fewer"})
    # One conditional update: of two people acknowledging at once, exactly one succeeds.
    changed = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id, Escalation.acknowledged_at.is_(None))
        .values(
            acknowledged_at=clock.now(),
            acknowledged_by_id=actor.id,
            acknowledgement_note=cleaned,
            version=Escalation.version + 1,
        )
    ).rowcount
    session.refresh(escalation)
    if changed != 1:
        raise Conflict(already_acknowledged_message(session, escalation))
    audit_record(
        session,
        actor=actor,
        action="escalation.acknowledge",
        summary=f"Acknowledged safeguarding escalation {escalation.id} on audit {escalation.audit_id}",
        entity_type="escalation",
        entity_id=escalation.id,
        before={"acknowledged": False},
        after={"acknowledged": True, "with_note": bool(cleaned)},
    )
    return escalation


def already_acknowledged_message(session: Session, escalation: Escalation) -> str:
    (row,) = selectors.escalation_rows(session, escalations=[escalation])
    who = row.acknowledged_by_name or "someone"
    return f"This escalation has already been acknowledged by {who}. Nothing more was saved."
