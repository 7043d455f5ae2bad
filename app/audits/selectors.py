"""Reads for audits: one audit, its answers, a page of audits. Who may see an audit depends on its moderation
rounds too: `app.moderation.selectors.audit_visible_to`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import TemplateDefinition
from app.audit_templates.scoring import compliance_code
from app.audit_templates.service import template_definition
from app.audits.models import Audit, AuditAnswer
from app.audits.permissions import listed_condition
from app.audits.workflow.states import EDITABLE
from app.cases.models import Case
from app.db import valid_row_id
from app.pagination import Page, paginate

# The roles that work on audits at all (the pages and the reports' links to an audit).
AUDIT_ROLES = (Role.AUDITOR, Role.QA_LEAD)

STATUS_LABELS = {
    "allocated": "Not started",
    "in_progress": "In progress",
    "submitted": "Submitted",
    "in_moderation": "In moderation",
    "returned": "Returned",
    "completed": "Completed",
}


def audit_get(session: Session, *, audit_id: int) -> Audit | None:
    return session.get(Audit, audit_id) if valid_row_id(audit_id) else None


def audit_template(session: Session, audit: Audit) -> tuple[TemplateVersion, TemplateDefinition]:
    version = session.get(TemplateVersion, audit.template_version_id)
    assert version is not None  # a foreign key
    return version, template_definition(version)


def audit_answer_rows(session: Session, *, audit: Audit) -> dict[str, AuditAnswer]:
    """Every answer row by question key: answers given, and suggestions from the register."""
    rows = session.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars()
    return {row.question_key: row for row in rows}


def audit_answers(session: Session, *, audit: Audit) -> dict[str, Any]:
    """The answers given (question key -> value); suggestions not yet confirmed are not answers."""
    rows = session.execute(
        select(AuditAnswer.question_key, AuditAnswer.value).where(
            AuditAnswer.audit_id == audit.id, AuditAnswer.value.is_not(None)
        )
    )
    return {key: value for key, value in rows if value is not None}


def audits_page(
    session: Session,
    *,
    user: User,
    auditor_id: int | None = None,
    status: str | None = None,
    case_id: int | None = None,
    page: int | None = 1,
    page_size: int | None = None,
    clamp_to_last: bool = False,
) -> Page[Audit]:
    """Audits the user may see, newest first, optionally for one auditor, status or case."""
    stmt = select(Audit).where(listed_condition(user)).order_by(Audit.created_at.desc(), Audit.id.desc())
    if auditor_id is not None:
        stmt = stmt.where(Audit.auditor_id == auditor_id)
    if status:
        stmt = stmt.where(Audit.status == status)
    if case_id is not None:
        stmt = stmt.where(Audit.case_id == case_id)
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


def audit_editable_by(user: User, audit: Audit) -> bool:
    """Only the allocated auditor changes answers, and only until the audit is submitted (or once returned)."""
    return audit.auditor_id == user.id and audit.status in EDITABLE


@dataclass(frozen=True)
class AuditRow:
    """An audit as lists show it: with the child, the template's title and the auditor's name."""

    audit: Audit
    child_id: str
    template_title: str
    auditor_name: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.audit.status, self.audit.status)


def audit_rows(session: Session, *, audits: list[Audit]) -> list[AuditRow]:
    """Rows for a page of audits, in three queries whatever the page size."""
    case_ids = {a.case_id for a in audits}
    version_ids = {a.template_version_id for a in audits}
    user_ids = {a.auditor_id for a in audits}
    children = (
        dict(session.execute(select(Case.id, Case.child_id).where(Case.id.in_(case_ids))).all()) if audits else {}
    )
    titles = (
        dict(
            session.execute(
                select(TemplateVersion.id, TemplateVersion.title).where(TemplateVersion.id.in_(version_ids))
            ).all()
        )
        if audits
        else {}
    )
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all()) if audits else {}
    return [
        AuditRow(
            audit=a,
            child_id=children.get(a.case_id, ""),
            template_title=titles.get(a.template_version_id, ""),
            auditor_name=names.get(a.auditor_id, ""),
        )
        for a in audits
    ]


def audit_compliance_code(session: Session, audit: Audit) -> str:
    """The audit's compliance answers as stored on completion (`Audit.compliance_answers`)."""
    _, definition = audit_template(session, audit)
    return compliance_code(definition, audit_answers(session, audit=audit))
