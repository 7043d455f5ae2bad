"""Raising a safeguarding escalation from an audit's answers, telling people about it, chasing it, withdrawing it and
acknowledging it.

A save that answers the template's safeguarding question "Yes" is escalated once it has a description
(the question's explanation) and someone to tell (the case's team manager unless the auditor names
another person). Until then the Yes is kept as a draft concern, "not yet sent" (never thrown away):
the save that completes it raises the escalation (`escalation_from_answers`), in the same transaction,
so it never waits for the audit to be submitted; submitting needs it sent. Raising it tells its recipient
and every QA lead at once (`app.escalations.alerts`: an email in the outbox and an in-app notification, with
the child's ID and a link, nothing else). One escalation per audit is open at a time.

Changing the answer from Yes while the escalation waits for acknowledgement withdraws it: the auditor must say
why (`WITHDRAWAL_FIELD`), and whoever was told of it is told it is withdrawn. Once acknowledged, it stands if
the answer changes later (the trail records the change). Acknowledging records what was done (an outcome from
`rules.OUTCOMES`, and a note, which no further action needs: the reason). Not acknowledged in time, it is
chased up the ladder (`escalation_chase_step`, run by `app.escalations.chase`). The description, a note and a
reason are case detail: they stay in the escalation and never go into the audit trail, an email or a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
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
from app.escalations import alerts, permissions, rules, selectors
from app.escalations.models import Escalation, EscalationChase
from app.escalations.selectors import RECIPIENT_FIELD
from app.notifications import service as notifications

if TYPE_CHECKING:
    from app.config import Settings

NOTE_FIELD = "note"
OUTCOME_FIELD = "outcome"
NOTE_MAX_LENGTH = 2000
WITHDRAWAL_FIELD = "withdrawal_reason"
WITHDRAWAL_MAX_LENGTH = 2000
WITHDRAWAL_NEEDED = (
    "Enter why you are withdrawing the safeguarding concern (the reason for changing the answer from Yes)"
)
NOT_FOUND = "There is no safeguarding escalation with that number, or it is not one you can see."

# Two saves describing the same concern at once: the second is told, and its text is not lost on the audit.
DESCRIBE_STALE = "Someone else changed this concern's description at the same time. Check it and save again."


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from app.config import get_settings  # the request's settings are not at hand when answers are saved

    return get_settings()


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
    withdrawal_reason: str | None = None  # set when the save withdraws the open escalation (`open`)

    @property
    def withdraws(self) -> bool:
        return self.withdrawal_reason is not None and self.open is not None


def escalation_prepare(
    session: Session,
    *,
    audit: Audit,
    definition: TemplateDefinition,
    answers: Mapping[str, Any],
    recipient_id: int | None,
    withdrawal_reason: str | None = None,
) -> SafeguardingSave | None:
    """Work out, before a save is stored, what it does to the safeguarding concern. A Yes without a description or
    anyone to tell is a draft: kept, not yet sent. A change from Yes while the escalation waits for acknowledgement
    withdraws it, and needs `withdrawal_reason`. Only a recipient who may not be told, or a withdrawal without a
    reason, refuses the save (a ValidationFailed naming the field). None when the save does not touch the
    safeguarding answer."""
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
    reason = None
    if was_yes and not is_yes and open_ is not None:
        reason = _text(withdrawal_reason)
        if reason is None:
            raise ValidationFailed({WITHDRAWAL_FIELD: WITHDRAWAL_NEEDED})
        if len(reason) > WITHDRAWAL_MAX_LENGTH:
            raise ValidationFailed(
                {WITHDRAWAL_FIELD: f"The reason for withdrawing must be {WITHDRAWAL_MAX_LENGTH:,} characters or fewer"}
            )
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
        withdrawal_reason=reason,
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
    session: Session,
    *,
    audit: Audit,
    actor: User,
    change: SafeguardingSave | None,
    settings: Settings | None = None,
) -> Escalation | None:
    """After the answers are stored: raise the escalation a Yes calls for (and tell its recipient and the QA leads),
    keep an open one's description current, withdraw an open one whose answer changed from Yes, and record an
    answer changed away from Yes after acknowledgement (the escalation stands). Returns the escalation raised,
    updated or withdrawn. `settings` (default: the process's) give the links in the emails."""
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
        escalation_alert_raised(session, escalation=found, child_id=case.child_id, settings=_settings(settings))
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
    if change.withdraws and change.open is not None and change.withdrawal_reason is not None:
        withdrawn = escalation_withdraw(
            session,
            escalation=change.open,
            actor=actor,
            reason=change.withdrawal_reason,
            answer=change.answer,
            settings=_settings(settings),
        )
        if withdrawn:
            return change.open
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


def escalation_alert_raised(session: Session, *, escalation: Escalation, child_id: str, settings: Settings) -> None:
    """Tell the recipient and every active QA lead (but the auditor who raised it) that it was raised."""
    recipient = session.get(User, escalation.recipient_id)
    url = alerts.escalation_url(settings.base_url, escalation.id or 0)
    people: list[tuple[User, alerts.Alert]] = []
    if recipient is not None:
        people.append(
            (recipient, alerts.raised_alert(child_id, url, as_recipient=True, service_name=settings.service_name))
        )
    lead_alert = alerts.raised_alert(child_id, url, as_recipient=False, service_name=settings.service_name)
    people += [(lead, lead_alert) for lead in selectors.qa_leads(session) if lead.id != escalation.raised_by_id]
    alerts.tell(
        session,
        escalation=escalation,
        people=people,
        kind=alerts.RAISED,
        event="raised",
        settings=settings,
        now=escalation.created_at,
    )


def escalation_withdraw(
    session: Session, *, escalation: Escalation, actor: User, reason: str, answer: Any, settings: Settings
) -> bool:
    """The auditor changed the answer from Yes: the escalation no longer waits for acknowledgement, and whoever was
    told of it (its recipient, and anyone a chase step reached) is told. False when it was acknowledged (or
    withdrawn) meanwhile: then it stands."""
    now = clock.now()
    changed = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id, Escalation.acknowledged_at.is_(None), Escalation.withdrawn_at.is_(None))
        .values(withdrawn_at=now, withdrawn_by_id=actor.id, withdrawn_reason=reason, version=Escalation.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(escalation)
    if changed != 1:
        return False
    assert escalation.id is not None
    child_id = session.execute(select(Case.child_id).where(Case.id == escalation.case_id)).scalar_one()
    audit_record(
        session,
        actor=actor,
        action="escalation.withdraw",
        summary=(
            f"Withdrew safeguarding escalation {escalation.id} on audit {escalation.audit_id} (child {child_id}): "
            f"the answer changed from Yes to {_answer_label(answer)}"
        ),
        entity_type="escalation",
        entity_id=escalation.id,
        before={"answer": "yes", "withdrawn": False},
        after={"answer": answer, "withdrawn": True},
    )
    told_ids = [escalation.recipient_id, *sorted(selectors.chased_user_ids(session, escalation_id=escalation.id))]
    people = [u for u in (session.get(User, i) for i in dict.fromkeys(told_ids)) if u is not None and u.active]
    alert = alerts.withdrawn_alert(
        child_id, alerts.escalation_url(settings.base_url, escalation.id), service_name=settings.service_name
    )
    told = alerts.tell(
        session,
        escalation=escalation,
        people=[(u, alert) for u in people],
        kind=alerts.WITHDRAWN,
        event="withdrawn",
        settings=settings,
        now=now,
    )
    notifications.escalation_notifications_read(session, escalation_id=escalation.id, now=now, keep_unread=told)
    return True


def escalation_acknowledge(
    session: Session, *, escalation: Escalation, actor: User, outcome: str | None, note: str
) -> Escalation:
    """The recipient (or someone chased, or the QA lead) says what was done; once only (a second time, or once it
    is withdrawn, is a Conflict). No further action needs a note saying why."""
    assert escalation.id is not None
    chased = selectors.chased_user_ids(session, escalation_id=escalation.id)
    if not permissions.may_acknowledge_escalation(actor, escalation, chased=chased):
        raise NotFound(NOT_FOUND)
    cleaned = note.replace("\x00", "").strip()
    errors: dict[str, str] = {}
    if outcome not in rules.OUTCOMES:
        errors[OUTCOME_FIELD] = "Select what was done about the concern"
    if len(cleaned) > NOTE_MAX_LENGTH:
        errors[NOTE_FIELD] = f"The note must be {NOTE_MAX_LENGTH:,} characters or fewer"
    elif outcome == rules.NO_FURTHER_ACTION and not cleaned:
        errors[NOTE_FIELD] = "Enter why no further action is needed"
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    # One conditional update: of two people acknowledging at once, exactly one succeeds.
    changed = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id, Escalation.acknowledged_at.is_(None), Escalation.withdrawn_at.is_(None))
        .values(
            acknowledged_at=now,
            acknowledged_by_id=actor.id,
            acknowledgement_note=cleaned,
            outcome=outcome,
            version=Escalation.version + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(escalation)
    if changed != 1:
        raise Conflict(already_closed_message(session, escalation))
    audit_record(
        session,
        actor=actor,
        action="escalation.acknowledge",
        summary=(
            f"Acknowledged safeguarding escalation {escalation.id} on audit {escalation.audit_id}: "
            f"{rules.outcome_label(outcome).lower()}"
        ),
        entity_type="escalation",
        entity_id=escalation.id,
        before={"acknowledged": False},
        after={"acknowledged": True, "outcome": outcome, "with_note": bool(cleaned)},
    )
    notifications.escalation_notifications_read(session, escalation_id=escalation.id, now=now)
    return escalation


def already_closed_message(session: Session, escalation: Escalation) -> str:
    (row,) = selectors.escalation_rows(session, escalations=[escalation])
    if row.status == selectors.WITHDRAWN:
        who = row.withdrawn_by_name or "the auditor"
        return f"This escalation was withdrawn by {who}, so it no longer needs acknowledging. Nothing was saved."
    who = row.acknowledged_by_name or "someone"
    return f"This escalation has already been acknowledged by {who}. Nothing more was saved."


# --- The chase ladder ------------------------------------------------------------------------------------------


def chase_recipients(session: Session, *, escalation: Escalation, step: int) -> list[User]:
    """Who step `step` tells: the recipient again; the heads of service of the case's area (the QA leads when it
    has none); the QA leads. Active accounts only."""
    if step == rules.RECIPIENT_STEP:
        recipient = session.get(User, escalation.recipient_id)
        return [recipient] if recipient is not None and recipient.active else []
    if step == rules.HEAD_OF_SERVICE_STEP:
        area_id = session.execute(select(Case.service_area_id).where(Case.id == escalation.case_id)).scalar_one()
        heads = selectors.heads_of_service_for(session, service_area_id=area_id)
        if heads:
            return heads
    return selectors.qa_leads(session)


def escalation_chase_step(
    session: Session, *, escalation: Escalation, step: int, settings: Settings, now: datetime
) -> EscalationChase | None:
    """Send step `step` of the ladder, in the caller's transaction: record it (once: None when it is already
    recorded, or the escalation is no longer open), tell its people, and put it in the trail."""
    assert escalation.id is not None
    session.refresh(escalation)
    if not selectors.is_open(escalation):
        return None
    people = chase_recipients(session, escalation=escalation, step=step)
    chase = EscalationChase(
        escalation_id=escalation.id, step=step, sent_at=now, recipient_ids=[u.id for u in people if u.id is not None]
    )
    try:
        with session.begin_nested():
            session.add(chase)
            session.flush()
    except IntegrityError:  # another run sent this step since we looked
        return None
    child_id = session.execute(select(Case.child_id).where(Case.id == escalation.case_id)).scalar_one()
    alert = alerts.chase_alert(
        child_id,
        alerts.escalation_url(settings.base_url, escalation.id),
        step=step,
        working_hours=step * settings.escalation_chase_working_hours,
        service_name=settings.service_name,
    )
    alerts.tell(
        session,
        escalation=escalation,
        people=[(u, alert) for u in people],
        kind=alerts.CHASED,
        event=f"chase:{step}",
        settings=settings,
        now=now,
    )
    names = ", ".join(u.full_name for u in people) or "nobody (no active account to tell)"
    audit_record(
        session,
        actor=None,
        action="escalation.chase",
        summary=(
            f"Chased safeguarding escalation {escalation.id} (child {child_id}), not acknowledged after "
            f"{step * settings.escalation_chase_working_hours} working hours: step {step}, "
            f"{rules.STEP_LABELS[step].lower()}: {names}"
        ),
        entity_type="escalation",
        entity_id=escalation.id,
        after={"step": step, "recipient_ids": chase.recipient_ids},
    )
    return chase
