"""The printable audit: one read of everything the record holds (case facts, answers, grades, moderation,
escalations, replies) for the printable page and the PDF, and the PDF itself.

Both the page and the PDF come from `templates/audits/print.html`; the PDF renders it standalone (no
navigation, no external resources: only the print stylesheet, read from disk) through WeasyPrint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.accounts.models import Team, User
from app.audit_templates.describe import answer_text
from app.audit_templates.models import TemplateVersion
from app.audit_templates.prefill import fact_label
from app.audit_templates.schema import GRADE_LABELS, Grade, Question, TemplateDefinition
from app.audit_trail.service import audit_record
from app.audits import form as audit_form
from app.audits import selectors
from app.audits.models import Audit, AuditReply
from app.audits.service import case_facts
from app.cases import selectors as case_selectors
from app.cases.models import Case
from app.dates import long_date
from app.escalations import rules as escalation_rules
from app.escalations.models import Escalation
from app.moderation import selectors as moderation_selectors
from app.moderation.models import Moderation
from app.web.pdf import STATIC, pdf_of

PRINT_CSS = STATIC / "print.css"

REASON_LABELS = {
    "inadequate": "Graded Inadequate",
    "safeguarding": "Safeguarding escalation",
    "random": "Picked at random",
    "added": "Added by the QA lead",
}
MODERATION_STATUS = {
    "allocated": "Waiting for the moderator's grades",
    "graded": "Graded, decision to come",
    "decided": "Decided",
}
DECISION_LABELS = {"accept": "Accepted: the moderated grades are final", "return": "Returned to the auditor for rework"}
# A compliance-only template (the dip sample) has no grades: accepting keeps the auditor's answers.
COMPLIANCE_DECISION_LABELS = {**DECISION_LABELS, "accept": "Accepted: the auditor's answers stand"}
# Shown as headline facts; the rest of the register's facts follow when recorded.
HEADLINE_FACTS = ("worker_name", "manager_name")
HIDDEN_FACTS = {"birth_year", "birth_month", "age_at_extract", *HEADLINE_FACTS}


def grade_label(value: Any) -> str:
    """A grade as people read it; "" for none."""
    if isinstance(value, str) and value in Grade._value2member_map_:
        return GRADE_LABELS[Grade(value)]
    return "" if value in (None, "") else str(value)


def _fact_text(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return long_date(value)
    return str(value)


@dataclass(frozen=True)
class AnswerRow:
    label: str
    text: str
    required: bool


@dataclass(frozen=True)
class SectionAnswers:
    key: str
    title: str
    rows: list[AnswerRow]
    auditor_grade: str  # label, "" when the section has no grade or it was not given


@dataclass(frozen=True)
class GradeComparison:
    title: str
    auditor: str
    moderator: str
    agree: bool | None  # as the moderator recorded it


@dataclass(frozen=True)
class ModerationRound:
    round: int
    reason: str
    moderator_name: str
    status: str
    graded: bool
    blind: bool
    compared: str  # "grades", or "answers" for a compliance-only template (the dip sample)
    grades: list[GradeComparison]  # the auditor's and the moderator's grades (or answers) side by side
    rationale: str
    learning: str
    decision: str
    feedback: str
    graded_at: datetime | None
    decided_at: datetime | None


@dataclass(frozen=True)
class EscalationRow:
    raised_by: str
    recipient: str
    description: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str
    note: str
    outcome: str  # what was done, once acknowledged
    withdrawn_at: datetime | None
    withdrawn_by: str
    withdrawn_reason: str


@dataclass(frozen=True)
class ReplyRow:
    author: str
    text: str
    created_at: datetime


@dataclass
class PrintableAudit:
    audit: Audit
    template: TemplateVersion
    case: Case
    auditor_name: str
    status_label: str
    facts: list[tuple[str, str]]
    sections: list[SectionAnswers]
    overall_label: str  # the overall grade question's label ("" when the template has none)
    auditor_overall: str
    final_grade: str
    rounds: list[ModerationRound] = field(default_factory=list)
    escalations: list[EscalationRow] = field(default_factory=list)
    replies: list[ReplyRow] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.audit.status == "completed"

    @property
    def graded_sections(self) -> list[SectionAnswers]:
        return [s for s in self.sections if s.auditor_grade]


def _facts(session: Session, case: Case, today: date) -> list[tuple[str, str]]:
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    age = case_selectors.age_on(case.birth_year, case.birth_month, today)
    facts = case_facts(case)
    rows = [
        ("Child ID", case.child_id),
        ("Case type", case_selectors.case_type_label(case.case_type)),
        ("Age", f"{age} years" if age is not None else "Not recorded"),
        ("Team", team.name if team else "Not recorded"),
        *((fact_label(name), facts.get(name) or "Not recorded") for name in HEADLINE_FACTS),
    ]
    rows += [
        (fact_label(name), _fact_text(value))
        for name, value in facts.items()
        if name not in HIDDEN_FACTS and value is not None and value != ""
    ]
    return rows


def _sections(definition: TemplateDefinition, answers: dict[str, Any]) -> list[SectionAnswers]:
    found = []
    for progress in audit_form.sections_progress(definition, answers):
        section = progress.section

        def row(q: Question) -> AnswerRow:
            return AnswerRow(label=q.label, text=answer_text(q, answers.get(q.key)), required=q.required)

        found.append(
            SectionAnswers(
                key=section.key,
                title=section.title,
                rows=[row(q) for q in progress.questions],
                auditor_grade=grade_label(answers.get(section.grade_key)) if section.judgement else "",
            )
        )
    return found


def _rounds(
    session: Session, audit: Audit, definition: TemplateDefinition, answers: dict[str, Any], names: dict[int, str]
) -> list[ModerationRound]:
    rows = (
        session.execute(select(Moderation).where(Moderation.audit_id == audit.id).order_by(Moderation.round))
        .scalars()
        .all()
    )
    auditor_now = moderation_selectors.auditor_values(definition, answers)
    compliance = moderation_selectors.compliance_only(definition)
    rounds = []
    for m in rows:
        graded = m.status in ("graded", "decided")
        agreement = m.agreement or {}
        grades = (
            [
                GradeComparison(
                    c.title,
                    c.auditor or "",
                    c.moderator or "",
                    agree if isinstance(agree := agreement.get(c.key), bool) else None,
                )
                for c in moderation_selectors.compared(definition, m, auditor_now)
            ]
            if graded
            else []
        )
        decision = (COMPLIANCE_DECISION_LABELS if compliance else DECISION_LABELS).get(m.decision or "", "")
        rounds.append(
            ModerationRound(
                round=m.round,
                reason=REASON_LABELS.get(m.reason, m.reason),
                moderator_name=names.get(m.moderator_id, "Not yet allocated")
                if m.moderator_id
                else "Not yet allocated",
                status=MODERATION_STATUS.get(m.status, m.status),
                graded=graded,
                blind=m.blind,
                compared="answers" if compliance else "grades",
                grades=grades,
                rationale=m.rationale if graded else "",
                learning=m.learning if graded else "",
                decision=decision if graded else "",
                feedback=m.feedback if graded else "",
                graded_at=m.graded_at,
                decided_at=m.decided_at,
            )
        )
    return rounds


def printable_audit(session: Session, *, audit: Audit, today: date) -> PrintableAudit:
    """Everything the printout shows, in a handful of queries."""
    template, definition = selectors.audit_template(session, audit)
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    answers = selectors.audit_answers(session, audit=audit)
    moderator_ids = set(
        session.execute(select(Moderation.moderator_id).where(Moderation.audit_id == audit.id)).scalars()
    )
    escalations = (
        session.execute(
            select(Escalation).where(Escalation.audit_id == audit.id).order_by(Escalation.created_at, Escalation.id)
        )
        .scalars()
        .all()
    )
    replies = (
        session.execute(
            select(AuditReply).where(AuditReply.audit_id == audit.id).order_by(AuditReply.created_at, AuditReply.id)
        )
        .scalars()
        .all()
    )
    names = account_selectors.user_names(
        session,
        user_ids={
            audit.auditor_id,
            *moderator_ids,
            *(e.raised_by_id for e in escalations),
            *(e.recipient_id for e in escalations),
            *(e.acknowledged_by_id for e in escalations),
            *(e.withdrawn_by_id for e in escalations),
            *(r.author_id for r in replies),
        },
    )
    overall_question = definition.question(definition.overall.grade_question) if definition.overall else None
    return PrintableAudit(
        audit=audit,
        template=template,
        case=case,
        auditor_name=names.get(audit.auditor_id, ""),
        status_label=selectors.STATUS_LABELS.get(audit.status, audit.status),
        facts=_facts(session, case, today),
        sections=_sections(definition, answers),
        overall_label=overall_question.label if overall_question else "",
        auditor_overall=grade_label(answers.get(overall_question.key)) if overall_question else "",
        final_grade=grade_label(audit.final_grade),
        rounds=_rounds(session, audit, definition, answers, names),
        escalations=[
            EscalationRow(
                raised_by=names.get(e.raised_by_id, ""),
                recipient=names.get(e.recipient_id, ""),
                description=e.description,
                created_at=e.created_at,
                acknowledged_at=e.acknowledged_at,
                acknowledged_by=names.get(e.acknowledged_by_id, "") if e.acknowledged_by_id else "",
                note=e.acknowledgement_note,
                outcome=escalation_rules.outcome_label(e.outcome) if e.acknowledged_at else "",
                withdrawn_at=e.withdrawn_at,
                withdrawn_by=names.get(e.withdrawn_by_id, "") if e.withdrawn_by_id else "",
                withdrawn_reason=e.withdrawn_reason or "",
            )
            for e in escalations
        ],
        replies=[ReplyRow(author=names.get(r.author_id, ""), text=r.text, created_at=r.created_at) for r in replies],
    )


def printable_filename(audit: Audit, case: Case) -> str:
    """`audit-12-child-C0001234.pdf`: the audit number and the child's pseudonymous ID, nothing else."""
    child = re.sub(r"[^A-Za-z0-9_-]+", "-", case.child_id).strip("-")[:40] or "unknown"
    return f"audit-{audit.id}-child-{child}.pdf"


def printable_record(session: Session, *, user: User, audit: Audit, case: Case, pdf: bool) -> None:
    """The audit trail entry for one view (or PDF export) of the record: who and when."""
    if pdf:
        audit_record(
            session,
            actor=user,
            action="audit.pdf",
            entity_type="audit",
            entity_id=audit.id,
            summary=f"Downloaded audit {audit.id} of child {case.child_id} as a PDF",
        )
    else:
        audit_record(
            session,
            actor=user,
            action="audit.print",
            entity_type="audit",
            entity_id=audit.id,
            summary=f"Viewed the printable audit {audit.id} of child {case.child_id}",
        )


def printable_pdf(html: str) -> bytes:
    """The standalone printout as PDF (it references nothing outside itself)."""
    return pdf_of(html, PRINT_CSS)
