"""Starting an audit, saving answers as they are given, and submitting.

Every save names the audit version it was made against: a stale save (another tab, another person)
is refused with a conflict and overwrites nothing. Suggestions from the case register (prefill rules)
are stored beside the answers when the audit starts, so the audit records what was suggested and what
the auditor answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_templates.answers import answer_errors, submission_errors
from app.audit_templates.conditions import has_answer, same_answer
from app.audit_templates.models import TemplateVersion
from app.audit_templates.prefill import prefill_suggest
from app.audit_templates.scoring import compliance_code
from app.audit_templates.service import template_definition
from app.audit_trail.service import audit_record
from app.audits.models import Audit, AuditAnswer
from app.audits.selectors import audit_answers
from app.audits.workflow import states as workflow
from app.audits.workflow.states import EDITABLE
from app.cases.facts import FACT_FIELDS
from app.cases.models import Case, CaseImport
from app.cases.service import FORMATS
from app.dates import short_date
from app.db import claim_version
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.escalations import service as escalation_service
from app.working_days import WorkingDayCalendar

if TYPE_CHECKING:
    from app.config import Settings

STALE_MESSAGE = (
    "This audit has been changed since you opened it, in another tab or by someone else. "
    "Nothing you just sent was saved: reload the page to see the latest answers, then try again."
)


def case_facts(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in FACT_FIELDS}


def case_source(session: Session, case: Case) -> str | None:
    """Where the case's facts came from, for prefill explanations: "the Annex A workbook import on 3 Nov 2026"."""
    if case.last_import_id is None:
        return None
    found = session.get(CaseImport, case.last_import_id)
    if found is None:
        return None
    when = found.finished_at or found.created_at
    lists = f" ({', '.join(case.source_lists)})" if case.source_lists else ""
    return f"the {FORMATS.get(found.format, found.format)} import{lists} on {short_date(when.date())}"


def audit_start(
    session: Session,
    *,
    case: Case,
    template: TemplateVersion,
    auditor: User,
    actor: User,
    today: date,
    calendar: WorkingDayCalendar,
    due_date: date | None = None,
    cycle_id: int | None = None,
    sample_id: int | None = None,
) -> Audit:
    """A new audit of `case` on this exact template version, allocated to `auditor`, with the register's
    suggestions worked out now (the facts may change later; the audit keeps what it was shown)."""
    definition = template_definition(template)
    audit = Audit(
        case_id=case.id,
        template_version_id=template.id,
        template_key=template.key,
        template_version=template.version,
        auditor_id=auditor.id,
        status="allocated",
        due_date=due_date,
        started_by_id=actor.id,
        cycle_id=cycle_id,
        sample_id=sample_id,
    )
    session.add(audit)
    session.flush()
    facts = case_facts(case)
    source = case_source(session, case)
    for question in definition.questions:
        if question.prefill is None:
            continue
        suggestion = prefill_suggest(question.prefill, facts, today=today, calendar=calendar, source=source)
        if suggestion is not None:
            session.add(
                AuditAnswer(
                    audit_id=audit.id,
                    question_key=question.key,
                    value=None,
                    prefill_value=suggestion.value,
                    prefill_explanation=suggestion.explanation[:500],
                )
            )
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="audit.start",
        summary=f"Started a {template.title} audit (version {template.version}) of case {case.child_id}",
        entity_type="audit",
        entity_id=audit.id,
        after={"case_id": case.id, "template": template.key, "version": template.version, "auditor_id": auditor.id},
    )
    return audit


def audit_check_editable(audit: Audit, actor: User) -> None:
    """Only the allocated auditor changes an audit, and only until it is submitted (or once it is returned)."""
    if audit.auditor_id != actor.id:
        raise PermissionDenied("Only the auditor this audit is allocated to can change its answers.")
    if audit.status not in EDITABLE:
        raise Conflict(
            f"This audit is {workflow.LABELS.get(audit.status, audit.status)}, so its answers can no longer be changed."
        )


def audit_move(
    session: Session,
    *,
    audit: Audit,
    to: str,
    version: int,
    actor: User | None,
    summary: str,
    detail: dict[str, Any] | None = None,
    **values: Any,
) -> Audit:
    """Move the audit to state `to` if that move is legal and nobody changed it since `version` was read; one
    audit-trail event ("audit.<move>") records who, when, from and to. `values` are more columns to set."""
    before = audit.status
    name = workflow.check_move(before, to)
    if to == workflow.COMPLETED:
        values.setdefault("compliance_answers", audit_compliance_code(session, audit))
    _claim_version(session, audit, version, status=to, **values)
    audit_record(
        session,
        actor=actor,
        action=f"audit.{name}",
        summary=summary,
        entity_type="audit",
        entity_id=audit.id,
        before={"status": before},
        after={"status": to, "version": audit.version, **(detail or {})},
    )
    return audit


def audit_compliance_code(session: Session, audit: Audit) -> str:
    """The audit's compliance answers as stored on completion (`Audit.compliance_answers`)."""
    return compliance_code(template_definition(_version_of(session, audit)), audit_answers(session, audit=audit))


def _claim_version(session: Session, audit: Audit, version: int, **values: Any) -> None:
    """Move the audit to the next version if it is still at `version`; otherwise the save is stale."""
    claim_version(session, audit, version, stale=STALE_MESSAGE, updated_at=clock.now(), **values)


@dataclass(frozen=True)
class AnswerDifference:
    """A question this save would change that someone else changed since the save's version: theirs is kept."""

    key: str
    yours: Any
    saved: Any
    changed_by_id: int | None
    changed_at: datetime
    changed_version: int


class AnswersConflict(Conflict):
    """A save refused (nothing stored) because some of its questions were changed since the version it was based on."""

    def __init__(self, differences: list[AnswerDifference], version: int) -> None:
        count = len(differences)
        super().__init__(
            f"Not saved: {'an answer' if count == 1 else f'{count} answers'} you changed "
            f"{'was' if count == 1 else 'were'} also changed by someone else (or in another tab) since you opened "
            "this page. Check each one and keep yours or use the saved one."
        )
        self.differences = differences
        self.version = version


def audit_answers_save(
    session: Session,
    *,
    audit: Audit,
    version: int,
    answers: dict[str, Any],
    actor: User,
    escalation_recipient_id: int | None = None,
    based_on: Mapping[str, int] | None = None,
) -> Audit:
    """Save the answers that changed (a partial save is normal; an empty value clears an answer).

    `version` is the audit version the answers were based on (`based_on` may give an older one per question). The
    save is refused with an AnswersConflict, storing nothing, when any question in it was changed by someone else
    since its version; saves that touch different questions all succeed, each moving the audit's version on. An
    answer the same as the stored one is no change (and no conflict). Invalid values are refused, naming the
    question. A safeguarding Yes is kept even while its description or recipient is missing (a draft concern) and
    escalated in the save that completes it."""
    # The audit row is locked (PostgreSQL; SQLite transactions already hold the write lock) before anything is
    # compared, so two saves of one question at once are judged one after the other.
    session.refresh(audit, with_for_update=True)
    audit_check_editable(audit, actor)
    definition = template_definition(_version_of(session, audit))
    errors = answer_errors(definition, answers)
    if errors:
        raise ValidationFailed(errors)
    bases = {key: (based_on or {}).get(key, version) for key in answers}
    if any(base > audit.version for base in bases.values()) or version > audit.version:
        raise Conflict(
            f"This audit has no version {max([version, *bases.values()])}: it is at version {audit.version}. "
            "Reload it and try again."
        )
    rows = {
        row.question_key: row
        for row in session.execute(
            select(AuditAnswer).where(AuditAnswer.audit_id == audit.id, AuditAnswer.question_key.in_(list(answers)))
        ).scalars()
    }
    changes = {
        key: _normalise(value)
        for key, value in answers.items()
        if not same_answer(value, rows[key].value if key in rows else None)
    }
    differences = [
        AnswerDifference(
            key=key,
            yours=value,
            saved=rows[key].value,
            changed_by_id=rows[key].updated_by_id,
            changed_at=rows[key].updated_at,
            changed_version=rows[key].changed_version,
        )
        for key, value in changes.items()
        if key in rows and rows[key].changed_version > bases[key]
    ]
    if differences:
        raise AnswersConflict(differences, audit.version)
    # Checked before anything is stored: a recipient who may not be told refuses the save, naming the field.
    safeguarding = escalation_service.escalation_prepare(
        session, audit=audit, definition=definition, answers=changes, recipient_id=escalation_recipient_id
    )
    new_recipient = safeguarding.chosen_id if safeguarding and safeguarding.is_yes else audit.safeguarding_recipient_id
    if not changes and new_recipient == audit.safeguarding_recipient_id:
        return audit  # nothing changed: no new version, nothing recorded
    extra = {"safeguarding_recipient_id": new_recipient} if new_recipient != audit.safeguarding_recipient_id else {}
    if audit.status == workflow.IN_PROGRESS:
        _claim_version(session, audit, audit.version, **extra)
    else:
        audit_move(
            session,
            audit=audit,
            to=workflow.IN_PROGRESS,
            version=audit.version,
            actor=actor,
            summary=f"{'Began' if audit.status == workflow.ALLOCATED else 'Reworking'} audit {audit.id}",
            **extra,
        )
    now = clock.now()
    for key, stored in changes.items():
        row = rows.get(key) or AuditAnswer(audit_id=audit.id, question_key=key)
        row.value = stored
        row.updated_by_id = actor.id
        row.updated_at = now
        row.changed_version = audit.version
        session.add(row)
    session.flush()
    # Which questions changed, by whom and when; the answers themselves stay in the audit (no case detail here).
    audit_record(
        session,
        actor=actor,
        action="audit.answers",
        summary=f"Saved {len(changes)} answer{'' if len(changes) == 1 else 's'} on audit {audit.id}",
        entity_type="audit",
        entity_id=audit.id,
        after={"questions": sorted(changes), "version": audit.version},
    )
    escalation_service.escalation_from_answers(session, audit=audit, actor=actor, change=safeguarding)
    return audit


def _normalise(value: Any) -> Any:
    if not has_answer(value):
        return None
    if isinstance(value, str):
        return value.strip()
    return value


def audit_submit(
    session: Session, *, audit: Audit, version: int, actor: User, settings: Settings | None = None
) -> Audit:
    """Submit: every required visible question answered and valid, or a ValidationFailed naming each one. Selection
    for moderation follows, with `settings` (default: the process's) for the moderation rate."""
    audit_check_editable(audit, actor)
    template = _version_of(session, audit)
    definition = template_definition(template)
    if audit.version != version:
        raise Conflict(STALE_MESSAGE)
    errors = submission_errors(definition, audit_answers(session, audit=audit))
    errors.update(escalation_service.escalation_submit_errors(session, audit=audit, definition=definition))
    if errors:
        raise ValidationFailed(errors)
    if audit.status == workflow.RETURNED:  # resubmitted as it stands: the rework is recorded all the same
        audit_move(
            session,
            audit=audit,
            to=workflow.IN_PROGRESS,
            version=version,
            actor=actor,
            summary=f"Reworking audit {audit.id}",
        )
        version = audit.version
    audit_move(
        session,
        audit=audit,
        to=workflow.SUBMITTED,
        version=version,
        actor=actor,
        summary=f"Submitted the {template.title} audit {audit.id}",
        submitted_at=clock.now(),
    )
    # Selected for moderation, or completed. Imported here: moderation builds on this module.
    from app.moderation.service import moderation_on_submit

    moderation_on_submit(session, audit=audit, actor=actor, settings=settings)
    return audit


def _version_of(session: Session, audit: Audit) -> TemplateVersion:
    version = session.get(TemplateVersion, audit.template_version_id)
    assert version is not None  # a foreign key
    return version
