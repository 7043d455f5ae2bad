"""Starting an audit, saving answers as they are given, and submitting.

Every save names the audit version it was made against: a stale save (another tab, another person)
is refused with a conflict and overwrites nothing. Suggestions from the case register (prefill rules)
are stored beside the answers when the audit starts, so the audit records what was suggested and what
the auditor answered. What follows in other areas (escalating a safeguarding concern, selecting for moderation)
is `app.flows.audits`, which calls these in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_templates.answers import answer_errors, submission_errors
from app.audit_templates.conditions import has_answer, same_answer
from app.audit_templates.models import TemplateVersion
from app.audit_templates.prefill import prefill_suggest
from app.audit_templates.schema import TemplateDefinition
from app.audit_templates.service import template_definition
from app.audit_trail.service import audit_record
from app.audits.models import Audit, AuditAnswer
from app.audits.partners.models import SectionPartner
from app.audits.selectors import audit_answers
from app.audits.workflow import states as workflow
from app.audits.workflow.moves import STALE_MESSAGE, audit_claim_version, audit_move
from app.audits.workflow.states import EDITABLE
from app.cases.facts import FACT_FIELDS
from app.cases.models import Case, CaseImport
from app.cases.service import FORMATS
from app.dates import short_date
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.working_days import WorkingDayCalendar


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


def section_partners(session: Session, *, audit_id: int | None) -> dict[str, int]:
    """The audit's sections assigned to a partner representative: section key -> the partner's user id."""
    if audit_id is None:
        return {}
    rows = session.execute(
        select(SectionPartner.section_key, SectionPartner.partner_id).where(SectionPartner.audit_id == audit_id)
    ).all()
    return {key: partner_id for key, partner_id in rows}


def audit_check_answerable(
    session: Session, *, audit: Audit, actor: User, definition: TemplateDefinition, keys: Iterable[str]
) -> None:
    """The answers to `keys` may be saved by `actor`: a section assigned to a partner representative is theirs
    alone; the auditor answers every other section. Either way only until the audit is submitted (or once
    returned)."""
    assigned = section_partners(session, audit_id=audit.id)
    mine = {key for key, partner_id in assigned.items() if partner_id == actor.id}
    if audit.auditor_id != actor.id and not mine:
        raise PermissionDenied("Only the auditor this audit is allocated to can change its answers.")
    if audit.status not in EDITABLE:
        audit_check_editable(audit, actor)
    section_of = {q.key: section for section in definition.sections for q in section.form_questions}
    for key in keys:
        section = section_of.get(key)
        if section is None:
            continue  # not a question of the template: the answer checks name it
        partner_id = assigned.get(section.key)
        if partner_id is not None and partner_id != actor.id:
            raise PermissionDenied(
                f"The {section.title} section is completed by the partner agency's representative assigned to it."
            )
        if partner_id is None and audit.auditor_id != actor.id:
            raise PermissionDenied(f"Only the auditor can answer the {section.title} section.")


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


@dataclass(frozen=True)
class AnswersToSave:
    """What a save would change, once checked: the answers that differ from the stored ones (normalised), and the
    stored rows of the questions it names."""

    definition: TemplateDefinition
    changes: dict[str, Any]
    rows: dict[str, AuditAnswer]


def audit_answers_check(
    session: Session,
    *,
    audit: Audit,
    version: int,
    answers: dict[str, Any],
    actor: User,
    based_on: Mapping[str, int] | None = None,
) -> AnswersToSave:
    """The answers a save would change, or why it is refused, having stored nothing.

    `version` is the audit version the answers were based on (`based_on` may give an older one per question). The
    save is refused with an AnswersConflict when any question in it was changed by someone else since its version;
    saves that touch different questions all pass. An answer the same as the stored one is no change (and no
    conflict). Invalid values are refused, naming the question."""
    # The audit row is locked (PostgreSQL; SQLite transactions already hold the write lock) before anything is
    # compared, so two saves of one question at once are judged one after the other.
    session.refresh(audit, with_for_update=True)
    definition = template_definition(_version_of(session, audit))
    audit_check_answerable(session, audit=audit, actor=actor, definition=definition, keys=answers)
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
    return AnswersToSave(definition=definition, changes=changes, rows=rows)


def audit_answers_store(
    session: Session, *, audit: Audit, actor: User, checked: AnswersToSave, safeguarding_recipient_id: int | None
) -> bool:
    """Store checked answers (`audit_answers_check`) and who must be told of a safeguarding concern, moving the
    audit's version on (and the audit to in progress); False, with nothing stored, when neither changed."""
    changes = checked.changes
    if not changes and safeguarding_recipient_id == audit.safeguarding_recipient_id:
        return False  # nothing changed: no new version, nothing recorded
    extra = (
        {"safeguarding_recipient_id": safeguarding_recipient_id}
        if safeguarding_recipient_id != audit.safeguarding_recipient_id
        else {}
    )
    if audit.status == workflow.IN_PROGRESS:
        audit_claim_version(session, audit, audit.version, **extra)
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
        row = checked.rows.get(key) or AuditAnswer(audit_id=audit.id, question_key=key)
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
    return True


def _normalise(value: Any) -> Any:
    if not has_answer(value):
        return None
    if isinstance(value, str):
        return value.strip()
    return value


def audit_mark_submitted(
    session: Session, *, audit: Audit, version: int, actor: User, problems: Mapping[str, str] | None = None
) -> Audit:
    """Submit: every required visible question answered and valid (and none of the `problems` other areas found,
    keyed by field), or a ValidationFailed naming each one. Selection for moderation is the caller's next step
    (`app.flows.audits.audit_submit`)."""
    audit_check_editable(audit, actor)
    template = _version_of(session, audit)
    definition = template_definition(template)
    if audit.version != version:
        raise Conflict(STALE_MESSAGE)
    errors = submission_errors(definition, audit_answers(session, audit=audit))
    errors.update(problems or {})
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
    return audit


def _version_of(session: Session, audit: Audit) -> TemplateVersion:
    version = session.get(TemplateVersion, audit.template_version_id)
    assert version is not None  # a foreign key
    return version
