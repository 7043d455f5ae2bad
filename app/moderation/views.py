"""HTML pages for moderation: the queue, an audit's moderation (blind grading, comparison and decision, or one
page when the cycle is not blind), and the QA lead's hand (add an audit, reassign a round)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates.describe import answer_text
from app.audit_templates.schema import YES_NO_NA_LABELS
from app.audit_trail.service import audit_read
from app.audits import form as audit_form
from app.audits import selectors as audit_selectors
from app.audits.lookups import ManagedAudit, ModeratedAudit
from app.audits.models import Audit
from app.audits.workflow import states as workflow
from app.cases import selectors as case_selectors
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.moderation import selection, selectors, service
from app.moderation.eligibility import ineligibility_reasons
from app.moderation.filters import QueueFilter
from app.moderation.models import Moderation
from app.moderation.schemas import ModerationReassignForm
from app.pagination import page_number
from app.web.auth import QALead, RoleGuard
from app.web.errors import refusal_page
from app.web.forms import STALE_VERSION, FormDep, attempt, form_data, posted_version, request_today, see_other
from app.web.templating import render, render_list

router = APIRouter(tags=["moderation (HTML)"])

ModerationUser = Annotated[User, Depends(RoleGuard(Role.MODERATOR, Role.QA_LEAD))]
ModerationReader = Annotated[User, Depends(RoleGuard(Role.MODERATOR, Role.QA_LEAD, Role.AUDITOR))]
Moderator = Annotated[User, Depends(RoleGuard(Role.MODERATOR))]
NOT_FOUND = "There is no audit with that number, or it is not one you can see."
PAGE_SIZE = 25
AGREE, DISAGREE = "agree", "disagree"


def _text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# --- The queue ------------------------------------------------------------------------------------------------


@router.get("/moderation")
def moderation_list(request: Request, session: SessionDep, user: ModerationUser, page: str | None = None) -> Response:
    """A moderator's queue; for the QA lead every round, those nobody may moderate first."""
    sees_all = user.has_role(Role.QA_LEAD)
    cycles = selectors.cycles_with_moderation(session)
    flt, _ = QueueFilter.from_params(request.query_params, cycle_ids=[c.id for c in cycles if c.id is not None])
    result = selectors.rounds_page(
        session,
        user=user,
        status=flt.status,
        cycle_id=flt.cycle_id,
        page=page_number(page),
        page_size=PAGE_SIZE,
        clamp_to_last=True,
    )
    return render_list(
        request,
        "moderation/list.html",
        {
            "rows": selectors.round_rows(session, rounds=result.items),
            "status": flt.status or "",
            "statuses": selectors.FILTER_LABELS,
            "cycles": cycles,
            "cycle_id": flt.cycle_id,
            "sees_all": sees_all,
            "unallocated": selectors.unallocated_count(session) if sees_all else 0,
            "reason_labels": selection.REASON_LABELS,
            "filtered": bool(flt.query()),
        },
        result=result,
        params=flt.query(),
    )


# --- One audit's moderation -----------------------------------------------------------------------------------


def _case_context(request: Request, session: Session, audit: Audit) -> dict[str, Any]:
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    settings = request.app.state.settings
    team = case_selectors.teams_by_id(session).get(case.team_id) if case.team_id is not None else None
    return {
        "case": case,
        "case_team": team,
        "case_type_label": case_selectors.case_type_label(case.case_type),
        "case_age": case_selectors.age_on(case.birth_year, case.birth_month, settings.today()),
        "case_system_url": case_selectors.case_system_url(settings.case_system_url_template, case.child_id),
    }


def _mode(user: User, current: Moderation | None, audit: Audit) -> str:
    """What the page asks of this user: grade (blind), open (grades and decision on one page), compare
    (after blind grading), or nothing (a summary)."""
    if current is None or current.moderator_id != user.id or current.status == selectors.DECIDED:
        return "summary"
    if audit.status != workflow.IN_MODERATION:
        return "summary"
    if current.status == selectors.ALLOCATED:
        return "grade" if current.blind else "open"
    return "compare"


def _agree_items(asked: service.Asked, keys: list[str]) -> list[tuple[str, str]]:
    """The agree/disagree questions to ask, as (agreement key, legend), for these keys."""
    return [(key, f"Do you agree with the auditor's {asked.described(key)}?") for key in keys]


def _posted(form: Any, asked: service.Asked) -> tuple[dict[str, str], str | None, dict[str, str]]:
    """The moderator's grades, overall grade and compliance answers as the form sent them (blanks left out)."""
    grades = {s.key: _text(form, f"grade_{s.key}") for s in asked.sections if _text(form, f"grade_{s.key}")}
    answers = {q.key: _text(form, f"answer_{q.key}") for q in asked.questions if _text(form, f"answer_{q.key}")}
    overall = (_text(form, "overall_grade") or None) if asked.overall else None
    return grades, overall, answers


def _posted_values(grades: dict[str, str], overall: str | None, answers: dict[str, str]) -> dict[str, str]:
    """The same as form fields, to show again on a page with errors."""
    return {
        **{f"grade_{k}": v for k, v in grades.items()},
        "overall_grade": overall or "",
        **{f"answer_{k}": v for k, v in answers.items()},
    }


def _moderation_page(
    request: Request,
    session: Session,
    user: User,
    audit: Audit,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: str | None = None,
    reassign_values: dict[str, str] | None = None,
    reassign_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    template, definition = audit_selectors.audit_template(session, audit)
    answers = audit_selectors.audit_answers(session, audit=audit)
    rounds = selectors.moderation_rounds(session, audit_id=audit.id)  # type: ignore[arg-type]
    current = rounds[-1] if rounds else None
    is_lead = user.has_role(Role.QA_LEAD)
    is_auditor = audit.auditor_id == user.id
    mode = _mode(user, current, audit)
    hide_grades = selectors.grades_hidden_from(session, user=user, audit=audit)
    asked = service.asked_of_moderator(definition, answers)
    # The auditor's grades (or checklist answers) as they stand: none while grading blind.
    auditor_now = {} if hide_grades else selectors.auditor_values(definition, answers)
    people_ids = (
        {audit.auditor_id}
        | {m.moderator_id for m in rounds if m.moderator_id}
        | {m.selected_by_id for m in rounds if m.selected_by_id}
    )
    names = {u.id: u.full_name for u in (session.get(User, i) for i in people_ids) if u is not None}
    values = dict(values or {})
    if mode == "compare" and current is not None and not errors:
        auditor_then = selectors.auditor_given(current) or auditor_now  # as compared (a round before snapshots: now)
        suggested = service.suggested_agreement(selectors.moderator_given(current), auditor_then)
        values = {**{f"agree_{k}": AGREE if agreed else DISAGREE for k, agreed in suggested.items()}, **values}
    if mode == "open":
        agree_keys = asked.all_keys
    elif mode == "compare" and current is not None:
        agree_keys = asked.agreement_keys(current.section_grades, current.moderator_answers)
    else:
        agree_keys = []
    hidden = selectors.blind_keys(definition) if hide_grades else selectors.grade_keys(definition)
    shown_answers = (
        []
        if is_auditor and not is_lead
        else [
            (p.section, [(q, answer_text(q, answers.get(q.key))) for q in p.questions if q.key not in hidden])
            for p in audit_form.sections_progress(definition, answers)
        ]
    )
    reassign_choices: list[tuple[User, list[str]]] = []
    why_nobody: list[tuple[str, list[str]]] = []
    if is_lead and current is not None and current.status != selectors.DECIDED:
        parties = selectors.audit_parties(session, audit=audit)
        users = selectors.moderator_users(session)
        infos = selectors.moderator_infos(session, users=users, today=request_today(request))
        reassign_choices = [
            (u, ineligibility_reasons(info, parties))
            for u, info in zip(users, infos, strict=True)
            if u.id != current.moderator_id
        ]
        if current.moderator_id is None:
            why_nobody = selectors.why_no_moderator(session, audit=audit, today=request_today(request))
    error_order = (
        [f"grade_{s.key}" for s in asked.sections]
        + ["overall_grade"]
        + [f"answer_{q.key}" for q in asked.questions]
        + [f"agree_{key}" for key in asked.all_keys]
        + ["rationale", "learning", "decision", "feedback"]
    )
    return render(
        request,
        "moderation/audit.html",
        {
            "audit": audit,
            "template": template,
            "definition": definition,
            "rounds": rounds,
            "current": current,
            "mode": mode,
            "is_lead": is_lead,
            "is_auditor": is_auditor,
            "hide_grades": hide_grades,
            "asked": asked,
            "compliance": selectors.compliance_only(definition),
            "auditor_now": auditor_now,
            # Each graded round's two gradings (or checklists) side by side: none at all while grading blind.
            "compared": {}
            if hide_grades
            else {
                r.id: selectors.compared(definition, r, auditor_now) for r in rounds if r.status != selectors.ALLOCATED
            },
            "agree_items": _agree_items(asked, agree_keys),
            "names": names,
            "values": values,
            "errors": errors or {},
            "conflict": conflict,
            "error_order": error_order,
            "shown_answers": shown_answers,
            "grade_labels": selectors.GRADE_LABELS,
            "answer_labels": YES_NO_NA_LABELS,
            "round_status_labels": selectors.ROUND_STATUS_LABELS,
            "decision_labels": selectors.DECISION_LABELS,
            "reason_labels": selection.REASON_LABELS,
            "status_label": audit_selectors.STATUS_LABELS.get(audit.status),
            "reassign_choices": reassign_choices,
            "why_nobody": why_nobody,
            "reassign_values": reassign_values or {},
            "reassign_errors": reassign_errors or {},
            "can_add": is_lead
            and audit.status in (workflow.SUBMITTED, workflow.COMPLETED)
            and (current is None or current.status == selectors.DECIDED),
            **_case_context(request, session, audit),
        },
        status_code=status_code,
    )


@router.get("/audits/{audit_id}/moderation")
def moderation_audit(request: Request, session: SessionDep, user: ModerationReader, audit: ModeratedAudit) -> Response:
    audit_read(session, actor=user, action="moderation.view", entity_type="audit", entity_id=audit.id)
    return _moderation_page(request, session, user, audit)


def _current_or_conflict(session: Session, audit: Audit) -> Moderation:
    current = selectors.latest_round(session, audit_id=audit.id)  # type: ignore[arg-type]
    if current is None:
        raise Conflict("This audit is not in moderation.")
    return current


def _asked(session: Session, audit: Audit) -> service.Asked:
    _, definition = audit_selectors.audit_template(session, audit)
    return service.asked_of_moderator(definition, audit_selectors.audit_answers(session, audit=audit))


@router.post("/audits/{audit_id}/moderation/grade")
def moderation_grade(
    request: Request, session: SessionDep, user: Moderator, audit: ModeratedAudit, form: FormDep
) -> Response:
    """Blind grading (or answering a dip sample's checklist): the moderator's own, then the comparison."""
    current = _current_or_conflict(session, audit)
    grades, overall, answers = _posted(form, _asked(session, audit))
    outcome = attempt(
        session,
        lambda: service.moderation_grade(
            session,
            moderation=current,
            audit=audit,
            section_grades=grades,
            overall_grade=overall,
            answers=answers,
            version=posted_version(form, "_version") or STALE_VERSION,
            actor=user,
        ),
    )
    if isinstance(outcome, ValidationFailed):
        values = _posted_values(grades, overall, answers)
        return _moderation_page(request, session, user, audit, values=values, errors=outcome.errors, status_code=400)
    if isinstance(outcome, Conflict):
        return _moderation_page(request, session, user, audit, conflict=outcome.message, status_code=409)
    return see_other(f"/audits/{audit.id}/moderation")


@router.post("/audits/{audit_id}/moderation/decide")
def moderation_decide(
    request: Request, session: SessionDep, user: Moderator, audit: ModeratedAudit, form: FormDep
) -> Response:
    """Agreement, rationale, learning and the decision (with the grades or answers too when the round is not blind)."""
    current = _current_or_conflict(session, audit)
    asked = _asked(session, audit)
    grades, overall, answers = _posted(form, asked)
    keys = asked.all_keys
    agreement = {
        key: _text(form, f"agree_{key}") == AGREE for key in keys if _text(form, f"agree_{key}") in (AGREE, DISAGREE)
    }
    texts = {name: _text(form, name) for name in ("rationale", "learning", "feedback")}
    decision = _text(form, "decision") or None
    values = {
        **_posted_values(grades, overall, answers),
        **{f"agree_{k}": _text(form, f"agree_{k}") for k in keys},
        **texts,
        "decision": decision or "",
    }
    outcome = attempt(
        session,
        lambda: service.moderation_decide(
            session,
            moderation=current,
            audit=audit,
            agreement=agreement,
            rationale=texts["rationale"],
            learning=texts["learning"],
            decision=decision,
            feedback=texts["feedback"],
            version=posted_version(form, "_version") or STALE_VERSION,
            actor=user,
            section_grades=grades,
            overall_grade=overall,
            answers=answers,
        ),
    )
    if isinstance(outcome, ValidationFailed):
        return _moderation_page(request, session, user, audit, values=values, errors=outcome.errors, status_code=400)
    if isinstance(outcome, Conflict):
        return _moderation_page(request, session, user, audit, conflict=outcome.message, status_code=409)
    return see_other(f"/audits/{audit.id}/moderation")


@router.post("/audits/{audit_id}/moderation/reassign")
def moderation_reassign(
    request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, form: FormDep
) -> Response:
    """The QA lead gives the open round to another eligible moderator, with a reason."""
    current = _current_or_conflict(session, audit)
    values = form_data(form, ModerationReassignForm)
    data = ModerationReassignForm.model_validate(values)
    values["moderator_id"] = values.get("moderator_id", "").strip()  # shown again as chosen
    outcome = attempt(
        session,
        lambda: service.moderation_reassign(
            session,
            moderation=current,
            moderator_id=data.moderator_id,
            reason=data.reason,
            version=posted_version(form, "_version") or STALE_VERSION,
            actor=lead,
            today=request_today(request),
        ),
    )
    if isinstance(outcome, ValidationFailed):
        return _moderation_page(
            request, session, lead, audit, reassign_values=values, reassign_errors=outcome.errors, status_code=400
        )
    if isinstance(outcome, Conflict):
        return _moderation_page(request, session, lead, audit, conflict=outcome.message, status_code=409)
    return see_other(f"/audits/{audit.id}/moderation")


@router.post("/audits/{audit_id}/moderation/add")
def moderation_add(request: Request, session: SessionDep, lead: QALead, audit: ManagedAudit, form: FormDep) -> Response:
    """The QA lead adds a submitted or completed audit to moderation."""
    outcome = attempt(
        session,
        lambda: service.moderation_add(
            session,
            audit=audit,
            version=posted_version(form, "_version") or STALE_VERSION,
            actor=lead,
            today=request_today(request),
        ),
    )
    if isinstance(outcome, ValidationFailed):
        return refusal_page(request, outcome)  # shown as an error page, as before
    if isinstance(outcome, Conflict):
        return _moderation_page(request, session, lead, audit, conflict=outcome.message, status_code=409)
    return see_other(f"/audits/{audit.id}/moderation")


@router.get("/audits/{audit_id}/moderation/panel")
def moderation_panel(request: Request, session: SessionDep, user: ModerationReader, audit: ModeratedAudit) -> Response:
    """The moderation panel on the audit's page (loaded into it): who moderates it, or the moderator's feedback
    and learning when it was returned."""
    return render(
        request,
        "moderation/_audit_panel.html",
        {"audit": audit, **selectors.audit_moderation_panel(session, audit=audit, user=user)},
    )
