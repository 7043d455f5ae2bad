"""Raising a safeguarding escalation from an audit's answers, and acknowledging it.

A save that answers the template's safeguarding question "Yes" needs a description (the question's
explanation) and someone to tell (the case's team manager unless the auditor names another person).
It is checked before anything is stored (`escalation_prepare`, which refuses the whole save) and the
escalation is raised after (`escalation_from_answers`), in the same transaction, so it never waits for
the audit to be submitted. One escalation per audit is open at a time; it stands if the answer changes
later (the trail records the change). The description is case detail: it stays in the escalation and
never goes into the audit trail.
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
from app.errors import Conflict, NotFound, ValidationFailed
from app.escalations import selectors
from app.escalations.models import Escalation
from app.escalations.selectors import RECIPIENT_FIELD

NOTE_FIELD = "note"
NOTE_MAX_LENGTH = 2000
DESCRIPTION_MESSAGE = "Describe the safeguarding concern, who you told and when"
NOT_FOUND = "There is no safeguarding escalation with that number, or it is not one you can see."


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
    recipient: User | None  # for a new escalation


def escalation_prepare(
    session: Session,
    *,
    audit: Audit,
    definition: TemplateDefinition,
    answers: Mapping[str, Any],
    recipient_id: int | None,
) -> SafeguardingSave | None:
    """Check a save before it is stored: a Yes needs a description and someone to tell, or a ValidationFailed names
    each missing field (and the caller saves nothing). None when the save does not touch the safeguarding answer."""
    question = definition.safeguarding_question
    if question is None:
        return None
    explain = explanation_key(question.key)
    if question.key not in answers and explain not in answers:
        return None
    stored = audit_answers(session, audit=audit)
    merged = {**stored, **answers}
    before, after = stored.get(question.key), merged.get(question.key)
    if isinstance(after, str):
        after = after.strip() or None
    was_yes, is_yes = before == "yes", after == "yes"
    description = _text(merged.get(explain))
    assert audit.id is not None
    open_ = selectors.open_escalation_for_audit(session, audit_id=audit.id)
    # A Yes already escalated and acknowledged is not raised again by a later save; a new Yes is.
    raise_new = (
        is_yes and open_ is None and (not was_yes or not selectors.escalations_for_audit(session, audit_id=audit.id))
    )
    errors: dict[str, str] = {}
    if is_yes and description is None:
        errors[explain] = DESCRIPTION_MESSAGE
    recipient = None
    if raise_new:
        case = session.get(Case, audit.case_id)
        assert case is not None  # a foreign key
        recipient, problem = selectors.recipient_resolve(session, case=case, recipient_id=recipient_id)
        if problem:
            errors[RECIPIENT_FIELD] = problem
    if errors:
        raise ValidationFailed(errors)
    return SafeguardingSave(
        question_key=question.key,
        was_yes=was_yes,
        is_yes=is_yes,
        answer=after,
        description=description,
        open=open_,
        raise_new=raise_new,
        recipient=recipient,
    )


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
        found.description = change.description
        found.version += 1
        session.add(found)
        session.flush()
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
    if not selectors.escalation_visible_to(actor, escalation):
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
