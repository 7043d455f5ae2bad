"""The findings of a completed audit for the case's allocated worker, read-only, and their reply.

Who reads the findings and who replies is `app.audits.permissions.may_read_findings` / `may_reply`: the case's
worker (the practitioner account linked to the case) once the audit is completed, who may reply; everyone who
reads the completed audit (its auditor, moderators, the team's manager, the area's head of service); the QA lead
always. Anyone else: 404. Each read is recorded
in the audit trail (it is a view of a child's record).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.describe import answer_text
from app.audit_templates.schema import GRADE_LABELS, Grade
from app.audit_templates.scoring import section_grades
from app.audits import form as audit_form
from app.audits import permissions, selectors
from app.audits.lookups import FindingsAudit, ReplyAudit, access_of
from app.audits.models import Audit
from app.audits.replies import service as replies
from app.audits.schemas import AuditReplyForm
from app.cases import selectors as case_selectors
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.web.auth import CurrentUser, RoleGuard
from app.web.errors import refusal_page
from app.web.forms import FormDep, attempt, form_data
from app.web.templating import render

router = APIRouter(tags=["practitioner replies (HTML)"])

Practitioner = Annotated[User, Depends(RoleGuard(Role.PRACTITIONER))]
NOT_FOUND = "There is no audit with that number, or it is not one you can see."


def _case_of(session: Session, audit: Audit) -> Case:
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    return case


def _grade_label(value: Any) -> str:
    return GRADE_LABELS[Grade(value)] if isinstance(value, str) and value in Grade._value2member_map_ else ""


def _findings_page(
    request: Request,
    session: Session,
    user: User,
    audit: Audit,
    case: Case,
    *,
    errors: dict[str, str] | None = None,
    text: str = "",
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    template, definition = selectors.audit_template(session, audit)
    answers = selectors.audit_answers(session, audit=audit)
    progress = audit_form.sections_progress(definition, answers)
    grades = section_grades(definition, answers)
    found = replies.replies_for(session, audit_id=audit.id) if audit.id is not None else []
    authors = {u.id: u.full_name for u in (session.get(User, i) for i in {r.author_id for r in found}) if u}
    settings = request.app.state.settings
    team = case_selectors.teams_by_id(session).get(case.team_id) if case.team_id is not None else None
    return render(
        request,
        "audits/reply.html",
        {
            "audit": audit,
            "case": case,
            "template": template,
            "definition": definition,
            "answers": answers,
            "progress": progress,
            "answer_text": answer_text,
            "section_grades": {key: grade.label for key, grade in grades.items()},
            "final_grade": _grade_label(audit.final_grade),
            "status_label": selectors.STATUS_LABELS.get(audit.status, audit.status),
            "replies": found,
            "authors": authors,
            "can_reply": permissions.may_reply(user, access_of(request, audit)),
            "errors": errors or {},
            "text": text,
            "conflict": conflict,
            "max_length": replies.REPLY_MAX_LENGTH,
            "replied_now": request.query_params.get("replied") == "1",
            "case_team": team,
            "case_type_label": case_selectors.case_type_label(case.case_type),
            "case_age": case_selectors.age_on(case.birth_year, case.birth_month, settings.today()),
            "case_system_url": case_selectors.case_system_url(settings.case_system_url_template, case.child_id),
        },
        status_code=status_code,
    )


@router.get("/audits/{audit_id}/findings")
def audit_findings(request: Request, session: SessionDep, user: CurrentUser, audit: FindingsAudit) -> Response:
    case = _case_of(session, audit)
    replies.findings_view_record(session, audit=audit, case=case, viewer=user)
    return _findings_page(request, session, user, audit, case)


@router.post("/audits/{audit_id}/replies")
def audit_reply(
    request: Request, session: SessionDep, user: Practitioner, audit: ReplyAudit, form: FormDep
) -> Response:
    case = _case_of(session, audit)
    text = AuditReplyForm.model_validate(form_data(form, AuditReplyForm)).text
    if audit.status != "completed":
        # Said plainly rather than as a form error: there are no findings to reply to yet.
        raise Conflict("You can reply once the audit is completed. Nothing was saved.")
    outcome = attempt(session, lambda: replies.reply_add(session, audit=audit, case=case, author=user, text=text))
    if isinstance(outcome, Conflict):
        return refusal_page(request, outcome)
    if isinstance(outcome, ValidationFailed):
        return _findings_page(request, session, user, audit, case, errors=outcome.errors, text=text, status_code=400)
    return RedirectResponse(f"/audits/{audit.id}/findings?replied=1#replies", status_code=303)
