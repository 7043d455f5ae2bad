"""JSON API for audits: a page of audits, one audit, save answers, submit (the same services as the form)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.schema import TemplateDefinition
from app.audit_trail.service import audit_read
from app.audits import permissions, selectors, service
from app.audits.lookups import AnsweringAudit, OpenAudit, access_of
from app.audits.models import Audit
from app.audits.permissions import PartnerView
from app.audits.schemas import (
    AnswersSave,
    AuditPublic,
    AuditSubmit,
    AuditSummary,
    Grades,
    audit_public,
    audit_summary,
)
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.flows import audits as audit_flows
from app.moderation import selectors as moderation_selectors
from app.numbers import digits
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut
from app.web.auth import CurrentUser, RoleGuard
from app.web.forms import attempt

router = APIRouter(tags=["audits"])

AuditUser = Annotated[User, Depends(RoleGuard(Role.AUDITOR, Role.QA_LEAD))]
AuditListUser = Annotated[User, Depends(RoleGuard(*permissions.AUDIT_LIST_ROLES))]
# Who may answer: the auditor, and a partner representative (their own sections: the service checks which).
Answerer = Annotated[User, Depends(RoleGuard(Role.AUDITOR, Role.QA_LEAD, Role.PARTNER))]
Status = Literal["allocated", "in_progress", "submitted", "in_moderation", "returned", "completed"]
_ERRORS = {422: {"description": "Invalid or missing answers: `errors` maps each question key to a message"}}


def _unreadable_keys(request: Request, user: User, audit: Audit, definition: TemplateDefinition) -> set[str]:
    """The questions of the sections a partner representative may not read (none for anyone else)."""
    access = access_of(request, audit)
    if not permissions.partner_only(user, access):
        return set()
    partners_see = PartnerView(request.app.state.settings.partner_sees_other_sections)
    return {
        q.key
        for section in definition.sections
        if not permissions.may_read_section(user, access, section.key, partners_see=partners_see)
        for q in section.form_questions
    }


def _public(request: Request, session: Session, audit: Audit, user: User) -> AuditPublic:
    (row,) = selectors.audit_rows(session, audits=[audit])
    answer_rows = selectors.audit_answer_rows(session, audit=audit)
    if unreadable := _unreadable_keys(request, user, audit, selectors.audit_template(session, audit)[1]):
        answer_rows = {key: r for key, r in answer_rows.items() if key not in unreadable}
        return audit_public(row, answer_rows)
    if moderation_selectors.grades_hidden_from(session, user=user, audit=audit):
        # Blind moderation: the moderator grades (or answers a dip sample's checklist) before seeing the auditor's.
        hidden = moderation_selectors.blind_keys(selectors.audit_template(session, audit)[1])
        answer_rows = {key: r for key, r in answer_rows.items() if key not in hidden}
        return audit_public(row, answer_rows)
    auditor, final = moderation_selectors.audit_grades(
        session,
        audit=audit,
        definition=selectors.audit_template(session, audit)[1],
        answers=selectors.audit_answers(session, audit=audit),
    )
    return audit_public(
        row,
        answer_rows,
        auditor_grades=Grades(overall=auditor[1], sections=auditor[0]),
        final_grades=Grades(overall=final[1], sections=final[0]) if final is not None else None,
    )


def _answer_problems(answers: dict[str, Any]) -> dict[str, str]:
    """Text PostgreSQL cannot store in JSON (NUL) is refused here, naming the question."""

    def has_nul(value: Any) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        return isinstance(value, list) and any(has_nul(v) for v in value)

    return {
        key: f"The answer to '{key[:120]}' contains a NUL character"
        for key, value in answers.items()
        if has_nul(value) or "\x00" in key
    }


def _unprocessable(exc: ValidationFailed) -> JSONResponse:
    """422 naming each question: `errors` by question key, and `detail` in the API's usual shape."""
    return JSONResponse(
        status_code=422,
        content={
            "detail": [
                {"loc": ["body", "answers", key], "msg": message, "type": "value_error"}
                for key, message in exc.errors.items()
            ],
            "errors": exc.errors,
        },
    )


@router.get("/audits", response_model=PageOut[AuditSummary])
def audits_list(
    session: SessionDep,
    user: AuditListUser,
    assignee: Annotated[str | None, Query(max_length=12, description='"me", or an auditor\'s user id')] = None,
    status: Status | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[AuditSummary]:
    """Audits you may see, newest first: your own, or every audit for a QA lead."""
    auditor_id = None
    if assignee == "me":
        auditor_id = user.id
    elif assignee:
        if not digits(assignee):
            raise ValidationFailed({"assignee": 'Give "me" or a user id'})
        auditor_id = int(assignee)
    result = selectors.audits_page(
        session, user=user, auditor_id=auditor_id, status=status, page=page, page_size=page_size
    )
    return PageOut(
        items=[audit_summary(row) for row in selectors.audit_rows(session, audits=result.items)],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/audits/{audit_id}", response_model=AuditPublic, responses={404: {}})
def audit_get(request: Request, session: SessionDep, user: CurrentUser, audit: OpenAudit) -> AuditPublic:
    """One audit with its answers and the register's suggestions beside them (for a moderator grading blind,
    without the auditor's grades until they have given their own; for a partner representative, their own
    sections, and the others' as the partnership's setting says)."""
    audit_read(session, actor=user, action="audit.view", entity_type="audit", entity_id=audit.id)
    return _public(request, session, audit, user)


@router.put(
    "/audits/{audit_id}/answers",
    response_model=AuditPublic,
    responses={
        403: {},
        404: {},
        409: {
            "description": "Nothing saved: one of these questions was changed by someone else since `version` "
            "(`conflicts` lists each: question, yours, saved, changed_by, changed_at), or the audit is submitted"
        },
        **_ERRORS,
    },
)
def audit_answers_put(
    request: Request, session: SessionDep, user: Answerer, audit: AnsweringAudit, body: AnswersSave
) -> Any:
    """Save the answers that changed, with the version they were based on (a partial save is normal); nothing is
    saved unless every answer sent is valid. Saves of different questions never conflict; a safeguarding Yes without
    its description or recipient is kept as a draft and escalated once complete."""
    if problems := _answer_problems(body.answers):
        return _unprocessable(ValidationFailed(problems))
    # Answered here rather than raised, so in a savepoint: nothing of a refused save is committed.
    outcome = attempt(
        session,
        lambda: audit_flows.audit_answers_save(
            session,
            audit=audit,
            version=body.version,
            answers=body.answers,
            actor=user,
            escalation_recipient_id=body.escalation_recipient_id,
            withdrawal_reason=body.withdrawal_reason,
            settings=request.app.state.settings,
        ),
    )
    if isinstance(outcome, ValidationFailed):
        return _unprocessable(outcome)
    if isinstance(outcome, service.AnswersConflict):
        return _conflicting(session, outcome)
    if isinstance(outcome, Conflict):
        raise outcome
    return _public(request, session, audit, user)


def _conflicting(session: Session, exc: service.AnswersConflict) -> JSONResponse:
    """409 naming each question someone else changed since the save's version: yours, the saved answer, who, when."""
    names = account_selectors.user_names(session, user_ids={d.changed_by_id for d in exc.differences})
    return JSONResponse(
        status_code=409,
        content={
            "detail": exc.message,
            "version": exc.version,
            "conflicts": [
                {
                    "question": d.key,
                    "yours": d.yours,
                    "saved": d.saved,
                    "changed_by": names.get(d.changed_by_id) if d.changed_by_id is not None else None,
                    "changed_at": d.changed_at.isoformat(),
                    "changed_in_version": d.changed_version,
                }
                for d in exc.differences
            ],
        },
    )


@router.post(
    "/audits/{audit_id}/submit",
    response_model=AuditPublic,
    responses={403: {}, 404: {}, 409: {"description": "Stale version, or already submitted"}, **_ERRORS},
)
def audit_submit(request: Request, session: SessionDep, user: AuditUser, audit: OpenAudit, body: AuditSubmit) -> Any:
    """Submit: 422 lists every missing or invalid answer by question key."""
    outcome = attempt(session, lambda: audit_flows.audit_submit(session, audit=audit, version=body.version, actor=user))
    if isinstance(outcome, ValidationFailed):
        return _unprocessable(outcome)
    if isinstance(outcome, Conflict):
        raise outcome
    return _public(request, session, audit, user)
