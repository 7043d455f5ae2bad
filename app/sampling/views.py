"""HTML pages for the audit programme (QA lead): cycles, drawing a sample (preview, then confirm), allocation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts import selectors as account_selectors
from app.audit_templates import selectors as template_selectors
from app.audits import selectors as audit_selectors
from app.cases.facts import CASE_TYPE_LABELS
from app.date_rules import DueDateRules
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.flows.allocation import allocation_confirm
from app.numbers import digits, parse_int
from app.sampling import selectors, service
from app.sampling.allocation.service import allocation_propose, auditor_pool
from app.sampling.frame import frame_counts
from app.sampling.lookups import ManagedCycle, ManagedSample, ProgrammeManager
from app.sampling.methods import describe_precision
from app.sampling.models import Cycle, Sample
from app.sampling.schemas import (
    CYCLE_KINDS,
    MAX_SAMPLE,
    METHODS,
    STRATA_BY,
    CycleCreate,
    CycleForm,
    SampleCaseAddForm,
    SampleDrawForm,
    SampleSpec,
)
from app.web.errors import refusal_page
from app.web.forms import (
    FormDep,
    attempt,
    date_from_parts,
    date_part_values,
    form_data,
    request_today,
    see_other,
    validate,
    validate_all_named,
)
from app.web.templating import render
from app.working_days import calendar_for

router = APIRouter(tags=["programme (HTML)"])

CYCLE_FIELDS = ["title", "kind", "template_key", "theme", "start_date", "due_date", "moderation_rate"]
CYCLE_DATES = ("start_date", "due_date")
DATE_PARTS = ("day", "month", "year")
EXCLUSION_LABELS = {
    "closed": "Closed cases",
    "audited_recently": "Cases audited recently",
    "in_open_sample": "Cases already in an open sample",
}
SAMPLE_LISTS = ("case_types", "team_ids")
SAMPLE_FIELDS = [
    "method",
    "size",
    "strata_by",
    "min_per_stratum",
    "case_types",
    "team_ids",
    "missing_12m_at_least",
    "open_longer_than_months",
    "visit_older_than_days",
    "stepped_down_within_months",
    "exclude_closed",
    "exclude_audited",
    "audited_within_days",
    "exclude_in_open_sample",
    "seed",
]
SAMPLE_DEFAULTS: dict[str, Any] = {
    "exclude_closed": "yes",
    "exclude_audited": "yes",
    "audited_within_days": "365",
    "exclude_in_open_sample": "yes",
}


class _Fields(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


def _dates(request: Request) -> DueDateRules:
    return request.app.state.settings.due_date_rules()


def _whole(
    values: Mapping[str, Any],
    name: str,
    label: str,
    low: int,
    high: int,
    errors: dict[str, str],
    *,
    required: bool = False,
) -> int | None:
    """A whole number typed into a text box, or None; a message in `errors` when it is not one in range."""
    raw = str(values.get(name) or "").strip().replace(",", "")
    if not raw:
        if required:
            errors[name] = f"Enter {label.lower()}"
        return None
    if not re.fullmatch(r"\d{1,10}", raw):
        errors[name] = f"{label} must be a whole number, like {max(low, 2)}"
        return None
    number = int(raw)
    if not low <= number <= high:
        errors[name] = f"{label} must be between {low:,} and {high:,}"
        return None
    return number


# --- The programme -----------------------------------------------------------------------------------


@router.get("/programme")
def programme(request: Request, session: SessionDep, _: ProgrammeManager, year: str | None = None) -> Response:
    """The year's cycles; a year outside the programme's years shows this year, and says so."""
    dates = _dates(request)
    asked = parse_int(year, max_digits=4)
    chosen = asked if asked in dates.years else dates.today.year
    notice = (
        f"There is no programme for {year.strip()[:20]}: choose a year from {dates.years[0]} to {dates.years[-1]}. "
        f"This is the programme for {chosen}."
        if year is not None and year.strip() and asked != chosen
        else None
    )
    return render(
        request,
        "sampling/programme.html",
        {
            "year": chosen,
            "years": selectors.cycle_years(session, today=dates.today, allowed=dates.years),
            "rows": selectors.cycles_for_year(session, year=chosen, today=dates.today),
            "kinds": CYCLE_KINDS,
            "statuses": service.CYCLE_STATUSES,
            "notice": notice,
        },
    )


def _cycle_form(request: Request, session: Session, values: dict[str, Any], errors: dict[str, str]) -> Response:
    return render(
        request,
        "sampling/cycle_form.html",
        {
            "values": values,
            "errors": errors,
            "kinds": CYCLE_KINDS,
            "error_order": CYCLE_FIELDS,
            "templates": template_selectors.template_latest_versions(session),
        },
        status_code=400 if errors else 200,
    )


@router.get("/programme/new")
def cycle_new(request: Request, session: SessionDep, _: ProgrammeManager) -> Response:
    return _cycle_form(request, session, {"moderation_rate": "10", "blind_moderation": "yes"}, {})


@router.post("/programme/new")
def cycle_new_submit(request: Request, session: SessionDep, lead: ProgrammeManager, form: FormDep) -> Response:
    values: dict[str, Any] = form_data(form, CycleForm)  # as typed, to show again
    posted = dict(values)
    for name in CYCLE_DATES:
        values.update(date_part_values(form, name))
        posted[name] = date_from_parts(form, name)
    data, errors = validate_all_named(CycleForm, posted)
    cycle_data, problems = validate(CycleCreate, data.model_dump())
    if problems.get("template_key"):
        problems["template_key"] = "Select the template the audits will use"
    if problems.get("kind"):
        problems["kind"] = "Select the kind of cycle"
    errors = {**problems, **errors}
    if errors or cycle_data is None:
        return _cycle_form(request, session, values, errors)
    cycle = attempt(session, lambda: service.cycle_create(session, data=cycle_data, actor=lead, dates=_dates(request)))
    if isinstance(cycle, Conflict):
        raise cycle
    if isinstance(cycle, ValidationFailed):
        return _cycle_form(request, session, values, cycle.errors)
    return see_other(f"/programme/{cycle.id}?created=1")


@router.get("/programme/{cycle_id}")
def cycle_detail(request: Request, session: SessionDep, _: ProgrammeManager, cycle: ManagedCycle) -> Response:
    return _cycle_page(request, session, cycle)


def _cycle_page(
    request: Request, session: Session, cycle: Cycle, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    by_auditor, total = selectors.cycle_progress_by_auditor(session, cycle=cycle, today=request_today(request))
    return render(
        request,
        "sampling/cycle.html",
        {
            "cycle": cycle,
            "kinds": CYCLE_KINDS,
            "statuses": service.CYCLE_STATUSES,
            "methods": METHODS,
            "strata_by": STRATA_BY,
            "exclusion_labels": EXCLUSION_LABELS,
            "by_auditor": by_auditor,
            "total": total,
            "samples": selectors.cycle_samples(session, cycle=cycle),
            "overdue": selectors.cycle_overdue_audits(session, cycle=cycle, today=request_today(request)),
            "template": template_selectors.template_version_get(
                session, key=cycle.template_key, version=cycle.template_version
            ),
            "owner": account_selectors.user_get(session, user_id=cycle.owner_id) if cycle.owner_id else None,
            "flash": request.query_params,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.post("/programme/{cycle_id}/copy")
def cycle_copy(request: Request, session: SessionDep, lead: ProgrammeManager, cycle: ManagedCycle) -> Response:
    """ "The same again next month": a new cycle, then its page (or this one, saying why it cannot be copied)."""
    copy = attempt(session, lambda: service.cycle_copy(session, cycle=cycle, actor=lead, dates=_dates(request)))
    if isinstance(copy, Conflict):
        raise copy
    if isinstance(copy, ValidationFailed):
        return _cycle_page(request, session, cycle, errors=copy.errors, status_code=400)
    return see_other(f"/programme/{copy.id}?copied={cycle.id}")


@router.get("/programme/{cycle_id}/close")
def cycle_close_confirm(request: Request, session: SessionDep, _: ProgrammeManager, cycle: ManagedCycle) -> Response:
    """Closing is not undone: say what it means and ask first."""
    if cycle.status == "closed":
        return see_other(f"/programme/{cycle.id}")
    return render(request, "sampling/cycle_close.html", {"cycle": cycle})


@router.post("/programme/{cycle_id}/close")
def cycle_close(request: Request, session: SessionDep, lead: ProgrammeManager, cycle: ManagedCycle) -> Response:
    outcome = attempt(session, lambda: service.cycle_close(session, cycle=cycle, actor=lead))
    if isinstance(outcome, ValidationFailed):
        return refusal_page(request, outcome)
    # A Conflict: closed meanwhile (another tab); the page shows it closed.
    return see_other(f"/programme/{cycle.id}")


# --- Drawing a sample ----------------------------------------------------------------------------------


def _sample_values(fields: _Fields) -> dict[str, Any]:
    """What the sample form holds, as typed (a fresh form gets the default exclusions)."""
    if not fields.get("_sent"):
        return dict(SAMPLE_DEFAULTS)
    values: dict[str, Any] = {}
    for name in SAMPLE_FIELDS:
        if name in SAMPLE_LISTS:
            values[name] = [str(v) for v in fields.getlist(name)][:200]
        else:
            values[name] = str(fields.get(name) or "")[:100]
    return values


def _sample_data(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The SampleSpec fields from the form's values, and a message for each field that is wrong."""
    errors: dict[str, str] = {}
    method = values.get("method") if values.get("method") in METHODS else None
    if method is None:
        errors["method"] = "Select how to draw the sample"
    size = _whole(values, "size", "Sample size", 1, MAX_SAMPLE, errors, required=True)
    strata_by = values.get("strata_by") if values.get("strata_by") in STRATA_BY else None
    minimum = _whole(values, "min_per_stratum", "Minimum per stratum", 0, MAX_SAMPLE, errors) or 0
    filters: dict[str, Any] = {
        "case_types": [t for t in values.get("case_types") or [] if t in {k.value for k in CASE_TYPE_LABELS}] or None,
        "team_ids": [int(t) for t in values.get("team_ids") or [] if digits(t) and len(t) <= 9] or None,
        "missing_12m_at_least": _whole(values, "missing_12m_at_least", "Missing episodes", 0, 1000, errors),
        "open_longer_than_months": _whole(values, "open_longer_than_months", "Months open", 0, 600, errors),
        "visit_older_than_days": _whole(
            values, "visit_older_than_days", "Days since the last statutory visit", 0, 3650, errors
        ),
        "stepped_down_within_months": _whole(
            values, "stepped_down_within_months", "Months since the step-down", 1, 120, errors
        ),
    }
    filtered = any(v is not None for v in filters.values())
    if filtered and method and method != "thematic":
        errors["method"] = "Choose Thematic to draw from the cases the filters pick, or clear the filters"
    days = (
        _whole(values, "audited_within_days", "Days since the last audit", 1, 3650, errors)
        if values.get("exclude_audited")
        else None
    )
    data = {
        "method": method or "random",
        "size": size or 1,
        "strata_by": None if method == "random" else strata_by,
        "min_per_stratum": minimum,
        "filters": filters if method == "thematic" else {},
        "exclude_closed": bool(values.get("exclude_closed")),
        "exclude_audited_within_days": (days or 365) if values.get("exclude_audited") else None,
        "exclude_in_open_sample": bool(values.get("exclude_in_open_sample")),
        "seed": _whole(values, "seed", "Seed", 1, 2**31 - 1, errors),
    }
    if method == "stratified" and not strata_by:
        errors["strata_by"] = "Choose what to stratify by (for example team)"
    return data, errors


def _spec(values: Mapping[str, Any]) -> tuple[SampleSpec | None, dict[str, str]]:
    data, errors = _sample_data(values)
    spec, problems = validate(SampleSpec, data)
    errors = {**problems, **errors}
    return (None, errors) if errors else (spec, {})


def _frame_facts(session: Session, values: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The frame size, the precision of the size asked for and what each exclusion removes, as the form stands."""
    data, errors = _sample_data(values)
    data["seed"] = None
    spec = SampleSpec.model_validate({**data, "min_per_stratum": 0})
    frame, exclusion_counts = frame_counts(session, spec, today)
    size = data["size"] if "size" not in errors and str(values.get("size") or "").strip() else None
    precision = describe_precision(size, frame) if size and frame else None
    return {"frame_size": frame, "precision": precision, "exclusion_counts": exclusion_counts}


def _sample_form(
    request: Request,
    session: Session,
    cycle: Cycle,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    draw: service.Draw | None = None,
    warning: str | None = None,
    status_code: int = 200,
) -> Response:
    today = request_today(request)
    preview = None
    if draw is not None:
        preview = {
            "draw": draw,
            "cases": selectors.cases_brief(session, case_ids=draw.case_ids),
            "precision": describe_precision(len(draw.case_ids), draw.frame_size)
            if draw.case_ids and draw.frame_size
            else None,
            "confirm_values": {**values, "seed": str(draw.seed), "frame_hash": draw.frame_hash},
        }
    return render(
        request,
        "sampling/sample_form.html",
        {
            "cycle": cycle,
            "values": values,
            "errors": errors or {},
            "error_order": SAMPLE_FIELDS,
            "methods": METHODS,
            "strata_by": STRATA_BY,
            "case_types": {k.value: v for k, v in CASE_TYPE_LABELS.items()},
            "teams": account_selectors.teams_list(session, include_inactive=False),
            "exclusion_labels": EXCLUSION_LABELS,
            "preview": preview,
            "warning": warning,
            **_frame_facts(session, values, today),
        },
        status_code=status_code,
        block="precision",
    )


@router.get("/programme/{cycle_id}/samples/new")
def sample_new(request: Request, session: SessionDep, _: ProgrammeManager, cycle: ManagedCycle) -> Response:
    """The sample form; htmx asks again as the size or filters change, for the precision beside the size."""
    return _sample_form(request, session, cycle, _sample_values(request.query_params))


@router.post("/programme/{cycle_id}/samples/new")
def sample_new_submit(
    request: Request, session: SessionDep, lead: ProgrammeManager, cycle: ManagedCycle, form: FormDep
) -> Response:
    """Preview (nothing stored) or confirm (stored with the previewed seed, so the previewed cases)."""
    values = _sample_values(form)
    spec, errors = _spec(values)
    if spec is None:
        return _sample_form(request, session, cycle, values, errors=errors, status_code=400)
    today = request_today(request)
    draw = attempt(session, lambda: service.sample_draw(session, spec=spec, today=today))
    if isinstance(draw, Conflict):
        raise draw
    if isinstance(draw, ValidationFailed):
        return _sample_form(request, session, cycle, values, errors=draw.errors, status_code=400)
    choice = SampleDrawForm.model_validate(form_data(form, SampleDrawForm))
    if choice.action != "confirm":
        return _sample_form(request, session, cycle, values, draw=draw)
    if choice.frame_hash and choice.frame_hash != draw.frame_hash:
        return _sample_form(
            request,
            session,
            cycle,
            values,
            draw=draw,
            status_code=409,
            warning="The register changed after your preview, so the cases to draw from are not the "
            "same. Check this new draw, then confirm it.",
        )
    sample = service.sample_create(session, cycle=cycle, spec=spec, today=today, actor=lead)
    return see_other(f"/samples/{sample.id}?created=1")


# --- One sample: its facts, adding a case by hand, allocation ----------------------------------------------


def _describe_settings(sample: Sample, teams_by_id: Mapping[int, str]) -> dict[str, str]:
    """A stored sample's parameters in words, for the reviewer."""
    params = sample.params
    filters = params.get("filters") or {}
    strata = STRATA_BY.get(params.get("strata_by") or "", "None")
    if params.get("strata_by") and params.get("min_per_stratum"):
        strata += f", at least {params['min_per_stratum']} each"
    types = {k.value: v for k, v in CASE_TYPE_LABELS.items()}
    words = []
    if filters.get("case_types"):
        words.append("case type " + " or ".join(types.get(t, t) for t in filters["case_types"]))
    if filters.get("team_ids"):
        words.append("team " + " or ".join(teams_by_id.get(t, f"#{t}") for t in filters["team_ids"]))
    for key, text in (
        ("missing_12m_at_least", "at least {} missing episodes in 12 months"),
        ("absent_12m_at_least", "at least {} absences in 12 months"),
        ("placements_12m_at_least", "at least {} placements in 12 months"),
        ("open_longer_than_months", "open longer than {} months"),
        ("visit_older_than_days", "last statutory visit older than {} days"),
        ("stepped_down_within_months", "stepped down from referral to early help in the last {} months"),
    ):
        if filters.get(key) is not None:
            words.append(text.format(filters[key]))
    excluded = [
        text
        for on, text in (
            (params.get("exclude_closed"), "closed cases"),
            (
                params.get("exclude_audited_within_days"),
                f"cases audited within {params.get('exclude_audited_within_days')} days",
            ),
            (params.get("exclude_in_open_sample"), "cases already in an open sample"),
        )
        if on
    ]
    return {"strata": strata, "filters": "; ".join(words) or "None", "exclusions": ", ".join(excluded) or "None"}


def _sample_page(
    request: Request,
    session: Session,
    sample: Sample,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    today = request_today(request)
    cycle = selectors.cycle_get(session, cycle_id=sample.cycle_id)
    assert cycle is not None  # a foreign key
    cases = selectors.sample_cases(session, sample=sample)
    context: dict[str, Any] = {
        "sample": sample,
        "cycle": cycle,
        "cases": cases,
        "methods": METHODS,
        "strata_by": STRATA_BY,
        "exclusion_labels": EXCLUSION_LABELS,
        "settings": _describe_settings(sample, {t.id: t.name for t in account_selectors.teams_list(session)}),
        "values": values or {},
        "errors": errors or {},
        "flash": request.query_params,
        "today": today,
    }
    if sample.allocated:
        context["audits"] = audit_selectors.audit_rows(session, audits=selectors.sample_audits(session, sample=sample))
    else:
        proposal = allocation_propose(session, sample=sample, today=today)
        pool = auditor_pool(session, cycle=cycle, today=today)
        assigned = {str(k): str(v) for k, v in proposal.assignments.items()}
        chosen = {c.id: (values or {}).get(f"auditor-{c.id}", assigned.get(str(c.id), "")) for c in cases}
        context.update(
            {
                "proposal": proposal,
                "trained": [a for a in pool if a.training_current],
                "untrained": [a for a in pool if not a.training_current],
                "chosen": chosen,
                "allocatable": [c for c in cases if c.id not in proposal.unallocated],
                "unallocated": [(c, proposal.unallocated[c.id]) for c in cases if c.id in proposal.unallocated],
                "due": (values or {}).get("due") or {p: getattr(cycle.due_date, p) for p in DATE_PARTS},
            }
        )
    targets = {"due_date": "due_date-day", **{f"case_{c.id}": f"auditor-{c.id}" for c in cases}}
    context.update({"error_targets": targets, "error_order": ["child_id", "reason", "due_date", "assignments"]})
    return render(request, "sampling/sample.html", context, status_code=status_code)


@router.get("/samples/{sample_id}")
def sample_detail(request: Request, session: SessionDep, _: ProgrammeManager, sample: ManagedSample) -> Response:
    return _sample_page(request, session, sample)


@router.post("/samples/{sample_id}/cases")
def sample_add_case(
    request: Request, session: SessionDep, lead: ProgrammeManager, sample: ManagedSample, form: FormDep
) -> Response:
    """A case added by hand, with the reason recorded beside it."""
    data = SampleCaseAddForm.model_validate(form_data(form, SampleCaseAddForm))
    outcome = attempt(
        session,
        lambda: service.sample_add_case(session, sample=sample, child_id=data.child_id, reason=data.reason, actor=lead),
    )
    if isinstance(outcome, Conflict):
        return refusal_page(request, outcome)
    if isinstance(outcome, ValidationFailed):
        return _sample_page(request, session, sample, values=data.model_dump(), errors=outcome.errors, status_code=400)
    return see_other(f"/samples/{sample.id}?added=1#cases")


@router.post("/samples/{sample_id}/allocate")
def sample_allocate(
    request: Request, session: SessionDep, lead: ProgrammeManager, sample: ManagedSample, form: FormDep
) -> Response:
    """Create the audits as reviewed; a changed row that brings a conflict back is shown against that row."""
    cases = selectors.sample_cases(session, sample=sample)
    values: dict[str, Any] = {f"auditor-{c.id}": str(form.get(f"auditor-{c.id}", "")) for c in cases}
    values["due"] = {p: str(form.get(f"due_date-{p}", "")).strip() for p in DATE_PARTS}
    errors: dict[str, str] = {}
    assignments: dict[int, int] = {}
    for case in cases:
        chosen = values[f"auditor-{case.id}"]
        if digits(chosen) and len(chosen) <= 9:
            assignments[case.id] = int(chosen)
        elif chosen:
            errors[f"case_{case.id}"] = f"Child {case.child_id}: select an auditor from the list"
    due_text = date_from_parts(form, "due_date")
    due = None
    if due_text is not None:
        try:
            due = date.fromisoformat(due_text)
        except ValueError:
            errors["due_date"] = "The due date must be a real date"
    if not errors:
        settings = request.app.state.settings
        outcome = attempt(
            session,
            lambda: allocation_confirm(
                session,
                sample=sample,
                assignments=assignments,
                due_date=due,
                actor=lead,
                today=settings.today(),
                calendar=calendar_for(settings.working_days_jurisdiction),
                dates=settings.due_date_rules(),
            ),
        )
        if isinstance(outcome, Conflict):
            return refusal_page(request, outcome)
        if isinstance(outcome, ValidationFailed):
            errors = outcome.errors
    if errors:
        return _sample_page(request, session, sample, values=values, errors=errors, status_code=400)
    return see_other(f"/samples/{sample.id}?allocated=1")
