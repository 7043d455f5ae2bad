"""HTML pages for audits: start one, fill in the form section by section, check answers, submit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import clock
from app.accounts import selectors as account_selectors
from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_templates import selectors as template_selectors
from app.audit_templates.answers import submission_errors
from app.audit_templates.conditions import visible_keys
from app.audit_templates.describe import answer_text
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import Section, TemplateDefinition
from app.audit_templates.scoring import (
    overall_compliance,
    overall_grade_flags,
    section_compliance,
)
from app.audit_trail.service import audit_read
from app.audits import form as audit_form
from app.audits import permissions, selectors, service
from app.audits.lookups import AnsweringAudit, OpenAudit, access_of
from app.audits.models import Audit
from app.audits.permissions import PartnerView
from app.audits.schemas import AuditStartForm
from app.audits.workflow.states import EDITABLE
from app.cases import selectors as case_selectors
from app.cases.lookups import ReadableCase
from app.cases.models import Case
from app.db import SessionDep
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.escalations import selectors as escalation_selectors
from app.flows import allocation as allocation_flows
from app.flows import audits as audit_flows
from app.moderation import selectors as moderation_selectors
from app.pagination import page_number
from app.recommendations.selectors import recommendation_summary
from app.web.auth import CurrentUser, QALead, RoleGuard
from app.web.forms import FormDep, attempt, date_from_parts, date_part_values, form_data, see_other, validate_all_named
from app.web.query import StatusFilter
from app.web.templating import render, render_list
from app.working_days import calendar_for

router = APIRouter(tags=["audits (HTML)"])

AUDIT_ROLES = selectors.AUDIT_ROLES
AuditUser = Annotated[User, Depends(RoleGuard(*permissions.AUDIT_LIST_ROLES))]
SectionKey = Annotated[str, Path(max_length=60)]
NOT_FOUND = "There is no audit with that number, or it is not one you can see."
PAGE_SIZE = 25


def _elsewhere(request: Request, user: User, audit: Audit) -> Response | None:
    """Where the audit's pages send someone who may open the audit but not read its answers as they stand: a
    moderator grading blind goes to the moderation page (which hides the auditor's grades)."""
    if permissions.grading_blind(user, access_of(request, audit)):
        return see_other(f"/audits/{audit.id}/moderation")
    return None


def _check_section_editable(request: Request, user: User, audit: Audit, section: Section) -> None:
    """The section's answers may be saved by `user` (the auditor; a partner representative for their section)."""
    access = access_of(request, audit)
    if permissions.may_edit_section(user, access, section.key):
        return
    if permissions.is_auditor(user, access) and section.key in access.assigned_sections:
        raise PermissionDenied(f"The {section.title} section is completed by the partner agency's representative.")
    if permissions.is_partner_on(user, access) and audit.status not in EDITABLE:
        raise Conflict(
            f"This audit is {selectors.STATUS_LABELS.get(audit.status, audit.status)}: answers can no longer be changed."
        )
    service.audit_check_editable(audit, user)
    raise PermissionDenied(f"Only the auditor can answer the {section.title} section.")


def _may_read_section(request: Request, user: User, audit: Audit, section: Section) -> bool:
    partners_see = PartnerView(request.app.state.settings.partner_sees_other_sections)
    return permissions.may_read_section(user, access_of(request, audit), section.key, partners_see=partners_see)


def _section_or_404(
    definition: TemplateDefinition, section_key: str, *, request: Request, user: User, audit: Audit
) -> Section:
    """The section, if the template has it and `user` may read it (a partner: their own, and the others as the
    setting says)."""
    section = audit_form.section_get(definition, section_key)
    if section is None or not _may_read_section(request, user, audit, section):
        raise NotFound("This audit's template has no section with that name, or it is not one you can see.")
    return section


def _case_context(
    request: Request, session: Session, audit: Audit, *, shareable: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The case facts shown beside the form, and the link to the child's record in the case system; for a partner
    representative (`shareable` given) only the facts the template shares with partners, and no links into the
    council's systems."""
    case = session.get(Case, audit.case_id)
    assert case is not None  # a foreign key
    settings = request.app.state.settings
    team = case_selectors.teams_by_id(session).get(case.team_id) if case.team_id is not None else None
    if shareable is not None:
        return {
            "case": case,
            "case_team": team,
            "case_type_label": case_selectors.case_type_label(case.case_type),
            "case_age": case_selectors.age_on(case.birth_year, case.birth_month, settings.today()),
            "case_system_url": None,
            "case_facts_shown": set(shareable),
        }
    return {
        "case": case,
        "case_team": team,
        "case_type_label": case_selectors.case_type_label(case.case_type),
        "case_age": case_selectors.age_on(case.birth_year, case.birth_month, settings.today()),
        "case_system_url": case_selectors.case_system_url(settings.case_system_url_template, case.child_id),
    }


def _audit_context(request: Request, session: Session, user: User, audit: Audit) -> dict[str, Any]:
    template, definition = selectors.audit_template(session, audit)
    auditor = account_selectors.user_get(session, user_id=audit.auditor_id)
    partner = permissions.partner_only(user, access_of(request, audit))
    shareable = tuple(definition.shareable_facts) if partner else None
    return {
        "audit": audit,
        "template": template,
        "definition": definition,
        "auditor_name": auditor.full_name if auditor else "",
        "status_label": selectors.STATUS_LABELS.get(audit.status, audit.status),
        "can_edit": selectors.audit_editable_by(user, audit),
        "is_auditor": audit.auditor_id == user.id,
        "partner_view": partner,
        **_case_context(request, session, audit, shareable=shareable),
    }


# --- The list --------------------------------------------------------------------------------


@router.get("/audits")
def audits_list(request: Request, session: SessionDep, user: AuditUser, page: str | None = None) -> Response:
    flt, _ = StatusFilter.from_params(request.query_params, statuses=selectors.STATUS_LABELS)
    result = selectors.audits_page(
        session, user=user, status=flt.status, page=page_number(page), page_size=PAGE_SIZE, clamp_to_last=True
    )
    return render_list(
        request,
        "audits/list.html",
        {
            "rows": selectors.audit_rows(session, audits=result.items),
            "status": flt.status or "",
            "statuses": selectors.STATUS_LABELS,
            "sees_all": user.has_role(Role.QA_LEAD),
            "reads_others": user.has_role(Role.TEAM_MANAGER, Role.HEAD_OF_SERVICE, Role.PARTNER),
            "today": request.app.state.settings.today(),
        },
        result=result,
        params=flt.query(),
    )


# --- Starting an audit (QA lead, for testing until allocation arrives) -------------------------


def _start_choices(
    request: Request, session: Session, case: Case
) -> tuple[list[TemplateVersion], list[tuple[User, list[str]]]]:
    templates = template_selectors.template_latest_versions(session)
    auditors = allocation_flows.start_choices(session, case=case, today=request.app.state.settings.today())
    return templates, auditors


def _start_page(
    request: Request, session: Session, lead: User, case: Case, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    templates, auditors = _start_choices(request, session, case)
    return render(
        request,
        "audits/start.html",
        {
            "case": case,
            "templates": templates,
            "auditors": auditors,
            "values": values,
            "errors": errors,
        },
        status_code=400 if errors else 200,
    )


@router.get("/cases/{case_id}/audits/new")
def audit_start_form(request: Request, session: SessionDep, lead: QALead, case: ReadableCase) -> Response:
    _, auditors = _start_choices(request, session, case)
    # The QA lead who audits (and may audit this case) is offered first, as before the rules applied.
    mine = any(a.id == lead.id and not problems for a, problems in auditors)
    return _start_page(request, session, lead, case, {"auditor_id": str(lead.id)} if mine else {}, {})


@router.post("/cases/{case_id}/audits/new")
def audit_start_submit(
    request: Request, session: SessionDep, lead: QALead, case: ReadableCase, form: FormDep
) -> Response:
    templates, auditors = _start_choices(request, session, case)
    posted = {**form_data(form, AuditStartForm), "due_date": date_from_parts(form, "due_date")}
    data, errors = validate_all_named(AuditStartForm, posted)
    chosen_id = "" if data.auditor_id is None else str(data.auditor_id)
    values = {"template_key": data.template_key, "auditor_id": chosen_id, **date_part_values(form, "due_date")}
    template = next((t for t in templates if t.key == data.template_key), None)
    chosen = next(((a, problems) for a, problems in auditors if a.id == data.auditor_id), None)
    auditor = chosen[0] if chosen and not chosen[1] else None
    if template is None:
        errors["template_key"] = "Select the template to audit the case with"
    if chosen is None:
        errors["auditor_id"] = "Select the auditor who will complete the audit"
    elif chosen[1]:
        errors["auditor_id"] = allocation_flows.cannot_audit(*chosen)
    settings = request.app.state.settings
    if data.due_date is not None and (problem := settings.due_date_rules().problem(data.due_date)):
        errors["due_date"] = problem
    if errors or template is None or auditor is None:
        return _start_page(request, session, lead, case, values, errors)
    audit = service.audit_start(
        session,
        case=case,
        template=template,
        auditor=auditor,
        actor=lead,
        today=settings.today(),
        calendar=calendar_for(settings.working_days_jurisdiction),
        due_date=data.due_date,
    )
    return see_other(f"/audits/{audit.id}")


# --- One audit -------------------------------------------------------------------------------


@router.get("/audits/{audit_id}")
def audit_overview(request: Request, session: SessionDep, user: CurrentUser, audit: OpenAudit) -> Response:
    if elsewhere := _elsewhere(request, user, audit):
        return elsewhere
    audit_read(session, actor=user, action="audit.view", entity_type="audit", entity_id=audit.id)
    ctx = _audit_context(request, session, user, audit)
    answers = selectors.audit_answers(session, audit=audit)
    ctx["progress"] = [
        p
        for p in audit_form.sections_progress(ctx["definition"], answers)
        if _may_read_section(request, user, audit, p.section)
    ]
    ctx["moderation_panel"] = moderation_selectors.audit_moderation_panel(session, audit=audit, user=user)
    ctx["recommendations"] = recommendation_summary(session, audit=audit, user=user)
    return render(request, "audits/overview.html", ctx)


def _section_page(
    request: Request,
    session: Session,
    user: User,
    audit: Audit,
    section: Section,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    from_check: bool,
    conflict: str | None = None,
    status_code: int = 200,
    recipient_id: int | None = None,
    state: audit_form.FormState | None = None,
    differences: list[service.AnswerDifference] | None = None,
) -> Response:
    ctx = _audit_context(request, session, user, audit)
    ctx["can_edit"] = permissions.may_edit_section(user, access_of(request, audit), section.key)
    definition = ctx["definition"]
    stored = selectors.audit_answers(session, audit=audit)
    ctx["escalation"] = escalation_selectors.escalation_field(
        session, audit=audit, definition=definition, stored=stored, section=section, selected_id=recipient_id
    )
    ctx.update(_differences_context(session, definition, audit, differences or []))
    ctx["state"] = state or audit_form.state_fresh(stored, audit.version)
    shown = visible_keys(definition, values)
    suggestions = selectors.audit_answer_rows(session, audit=audit)
    progress = audit_form.sections_progress(definition, values)
    ctx.update(
        {
            "section": section,
            "values": values,
            "errors": errors,
            "shown": shown,
            "suggestions": suggestions,
            "from_check": from_check,
            "conflict": conflict,
            "progress": progress,
            "error_order": [q.key for q in section.form_questions],
            "error_targets": {q.key: audit_form.field_id(q) for q in section.form_questions},
            "position": next((i for i, p in enumerate(progress, 1) if p.section.key == section.key), None),
        }
    )
    return render(request, "audits/section.html", ctx, status_code=status_code)


@router.get("/audits/{audit_id}/sections/{section_key}")
def audit_section(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    audit: OpenAudit,
    section_key: SectionKey,
    check: str | None = None,
) -> Response:
    if elsewhere := _elsewhere(request, user, audit):
        return elsewhere
    _, definition = selectors.audit_template(session, audit)
    section = _section_or_404(definition, section_key, request=request, user=user, audit=audit)
    audit_read(session, actor=user, action="audit.section_view", entity_type="audit", entity_id=audit.id)
    answers = selectors.audit_answers(session, audit=audit)
    errors: dict[str, str] = {}
    if check == "errors" and permissions.may_edit_section(user, access_of(request, audit), section.key):
        # Arrived from an error on "Check your answers": show this section's problems again.
        section_keys = {q.key for q in section.form_questions}
        errors = {k: m for k, m in submission_errors(definition, answers).items() if k in section_keys}
    return _section_page(request, session, user, audit, section, values=answers, errors=errors, from_check=bool(check))


@router.post("/audits/{audit_id}/sections/{section_key}")
def audit_section_save(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    audit: AnsweringAudit,
    section_key: SectionKey,
    form: FormDep,
) -> Response:
    """Save and continue (works without JavaScript): to the next section, or back here if new questions appeared."""
    _, definition = selectors.audit_template(session, audit)
    section = _section_or_404(definition, section_key, request=request, user=user, audit=audit)
    _check_section_editable(request, user, audit, section)
    from_check = bool(form.get("_from_check"))
    recipient_id = escalation_selectors.parse_recipient_id(form.get(escalation_selectors.RECIPIENT_FORM_FIELD))
    if resolution := audit_form.read_resolution(session, audit=audit, section=section, form=form):
        # Keeping or taking one answer of a refused save (without JavaScript): the page again, nothing saved yet.
        return _section_page(
            request,
            session,
            user,
            audit,
            section,
            values=resolution.values,
            errors={},
            from_check=from_check,
            recipient_id=recipient_id,
            state=resolution.state,
            differences=resolution.differences,
            status_code=409 if resolution.differences else 200,
        )
    result = audit_form.section_save(
        session,
        audit=audit,
        definition=definition,
        section=section,
        form=form,
        actor=user,
        final=True,
        save=audit_flows.audit_answers_save,
        escalation_recipient_id=recipient_id,
    )
    if result.conflict:
        return _section_page(
            request,
            session,
            user,
            audit,
            section,
            values=result.values,
            errors={},
            from_check=from_check,
            conflict=result.conflict,
            status_code=409,
            recipient_id=recipient_id,
            state=result.state,
            differences=result.differences,
        )
    if result.errors:
        return _section_page(
            request,
            session,
            user,
            audit,
            section,
            values=result.values,
            errors=result.errors,
            from_check=from_check,
            status_code=400,
            recipient_id=recipient_id,
            state=result.state,
        )
    escalation = escalation_selectors.escalation_field(
        session, audit=audit, definition=definition, stored=result.answers, section=section
    )
    if escalation is not None and escalation.draft:
        # A safeguarding concern started but not sent: back to it, where the page says nobody has been told yet.
        query = "?check=answers" if from_check else ""
        return see_other(f"/audits/{audit.id}/sections/{section.key}{query}#escalation-part")
    new_here = [q for q in section.form_questions if q.key in result.shown_after and q.key not in result.posted_keys]
    if new_here:
        # The answers brought up more questions on this page: show them before moving on.
        query = "?check=answers" if from_check else ""
        return see_other(f"/audits/{audit.id}/sections/{section.key}{query}#{audit_form.field_id(new_here[0])}")
    following = audit_form.next_section(definition, result.answers, after=section.key)
    if from_check or following is None:
        return see_other(f"/audits/{audit.id}/check")
    return see_other(f"/audits/{audit.id}/sections/{following.key}")


@router.post("/audits/{audit_id}/sections/{section_key}/autosave")
def audit_section_autosave(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    audit: AnsweringAudit,
    section_key: SectionKey,
    form: FormDep,
) -> Response:
    """An answer saved as it is given (htmx): the save status, the new version, and any question that appeared,
    went or changed its error, as out-of-band swaps. 409 for a stale save, 422 for an invalid answer."""
    template, definition = selectors.audit_template(session, audit)
    section = _section_or_404(definition, section_key, request=request, user=user, audit=audit)
    _check_section_editable(request, user, audit, section)
    recipient_id = escalation_selectors.parse_recipient_id(form.get(escalation_selectors.RECIPIENT_FORM_FIELD))
    result = audit_form.section_save(
        session,
        audit=audit,
        definition=definition,
        section=section,
        form=form,
        actor=user,
        final=False,
        save=audit_flows.audit_answers_save,
        escalation_recipient_id=recipient_id,
    )
    escalation = escalation_selectors.escalation_field(
        session, audit=audit, definition=definition, stored=result.answers, section=section, selected_id=recipient_id
    )
    had_errors = {str(v) for v in form.getlist(audit_form.FIELD_ERRORED)}
    # The draft notice and "Who must be told" beside the safeguarding explanation: redrawn with a recipient's error,
    # or whenever the safeguarding answers (or the recipient) were saved.
    redraw_escalation = bool(
        escalation
        and (
            escalation_selectors.RECIPIENT_FIELD in result.errors
            or {escalation.question_key, escalation.explanation_key} & set(result.saved)
            or recipient_id is not None
        )
    )
    swap = set()
    if not result.conflict:
        swap = {
            q.key
            for q in section.form_questions
            if (q.key in result.shown_before) != (q.key in result.shown_after)
            or q.key in result.errors
            or (q.key in had_errors and q.key in result.shown_after)
            or q.key in result.learned
        }
    status = 409 if result.conflict else 422 if result.errors else 200
    return render(
        request,
        "audits/_autosave.html",
        {
            "audit": audit,
            "definition": definition,
            "section": section,
            "result": result,
            "swap": [q for q in section.form_questions if q.key in swap],
            "known": [k for k in result.saved if k not in swap],
            "state": result.state,
            "values": result.values,
            "errors": result.errors,
            "shown": result.shown_after,
            "can_edit": True,
            "suggestions": selectors.audit_answer_rows(session, audit=audit),
            "template": template,
            "escalation": escalation,
            "redraw_escalation": redraw_escalation
            and escalation is not None
            and escalation.explanation_key not in swap,
            "saved_at": clock.now() if result.saved else None,
            **_differences_context(session, definition, audit, result.differences),
        },
        status_code=status,
    )


def _differences_context(
    session: Session, definition: TemplateDefinition, audit: Audit, differences: list[service.AnswerDifference]
) -> dict[str, Any]:
    names = account_selectors.user_names(session, user_ids={d.changed_by_id for d in differences})
    return {
        "differences": audit_form.difference_views(definition, differences, names),
        "saved_state": audit_form.FormState(
            was={d.key: d.saved for d in differences}, base={}, default_base=audit.version
        ),
    }


# --- Check and submit ------------------------------------------------------------------------


def _check_page(
    request: Request,
    session: Session,
    user: User,
    audit: Audit,
    *,
    errors: dict[str, str],
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _audit_context(request, session, user, audit)
    definition = ctx["definition"]
    answers = selectors.audit_answers(session, audit=audit)
    links = {}
    for key in errors:
        section = audit_form.section_of(definition, key)
        question = definition.question(key)
        links[key] = (
            f"/audits/{audit.id}/sections/{section.key}?check=errors#{audit_form.field_id(question)}"
            if section and question
            else f"/audits/{audit.id}"
        )
    ctx.update(
        {
            "progress": audit_form.sections_progress(definition, answers),
            "answers": answers,
            "answer_text": answer_text,
            "errors": errors,
            "error_links": links,
            "conflict": conflict,
            "compliance": section_compliance(definition, answers),
            "overall": overall_compliance(definition, answers),
            "flags": overall_grade_flags(definition, answers),
            "error_order": [q.key for q in definition.questions],
        }
    )
    return render(request, "audits/check.html", ctx, status_code=status_code)


@router.get("/audits/{audit_id}/check")
def audit_check(request: Request, session: SessionDep, user: CurrentUser, audit: OpenAudit) -> Response:
    if elsewhere := _elsewhere(request, user, audit):
        return elsewhere
    if permissions.partner_only(user, access_of(request, audit)):
        return see_other(f"/audits/{audit.id}")  # a partner reads and answers their own sections, from the overview
    return _check_page(request, session, user, audit, errors={})


@router.post("/audits/{audit_id}/submit")
def audit_submit(request: Request, session: SessionDep, user: CurrentUser, audit: OpenAudit, form: FormDep) -> Response:
    service.audit_check_editable(audit, user)
    outcome = attempt(
        session,
        lambda: audit_flows.audit_submit(session, audit=audit, version=audit_form.posted_version(form), actor=user),
    )
    if isinstance(outcome, ValidationFailed):
        return _check_page(request, session, user, audit, errors=outcome.errors, status_code=400)
    if isinstance(outcome, Conflict):
        return _check_page(request, session, user, audit, errors={}, conflict=outcome.message, status_code=409)
    return see_other(f"/audits/{audit.id}")
