"""JSON API for the reports (issue 8): `GET /api/v1/reports/summary`, the reports page's figures for BI tools.

The same filter (`filters.report_filter_from_query`), scope and figures as the page: grade distribution,
compliance rates with 95% intervals and n (per section and per question), moderation agreement and
recommendations (app.reports.figures, app.reports.sections)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError

from app.accounts.models import ServiceArea, Team, User
from app.audit_templates.schema import GRADE_LABELS, Grade
from app.audit_trail.service import audit_bulk_read
from app.db import SessionDep
from app.errors import NotFound, PermissionDenied
from app.reports.figures import (
    GRADES,
    ComplianceReport,
    Counts,
    GradeCounts,
    GradeTally,
    compliance,
    compliance_rate,
    grade_distribution,
)
from app.reports.filters import ReportFilter, report_filter_from_query
from app.reports.schemas import (
    ComplianceOut,
    GradeDistributionOut,
    GradeShare,
    GroupGradesOut,
    ModerationOut,
    QuestionRateOut,
    RecommendationsOut,
    ReportSummary,
    SectionRateOut,
    TemplateRateOut,
    ThemeOut,
)
from app.reports.sections import (
    ModerationFigures,
    RecommendationFigures,
    moderation_figures,
    recommendation_figures,
)
from app.reports.views import ReportReader
from app.sampling.models import Cycle
from app.web.query import QueryReader

router = APIRouter(tags=["reports"])

# The API's parameter for each of the report filter's (the page's) query parameters.
PARAMETERS = {
    "from": "date_from",
    "to": "date_to",
    "cycle_id": "cycle",
    "service_area": "service_area",
    "team": "team",
    "template": "template",
    "case_type": "case_type",
}
API_NAME = {page: api for api, page in PARAMETERS.items()}
AREA_MESSAGE = "Service area must be a service area's number"


# --- Figures as JSON (pure) ----------------------------------------------------------------------------------


def _tally(t: GradeTally) -> dict[str, object]:
    return {
        "graded": t.graded,
        "ungraded": t.ungraded,
        "grades": [
            GradeShare(
                grade=g,
                label=GRADE_LABELS[Grade(g)],
                count=t.counts[g],
                share=t.counts[g] / t.graded if t.graded else None,
            )
            for g in GRADES
        ],
    }


def grades_out(grades: GradeCounts) -> GradeDistributionOut:
    return GradeDistributionOut(
        **_tally(grades.overall),
        by_service_area=[GroupGradesOut(id=g.id, name=g.name, **_tally(g.grades)) for g in grades.by_service_area],
        by_team=[GroupGradesOut(id=g.id, name=g.name, **_tally(g.grades)) for g in grades.by_team],
    )


def _rate(counts: Counts, *, frame: int | None, sampled: int, min_n: int) -> dict[str, object]:
    r = compliance_rate(counts, frame=frame, sampled=sampled, min_n=min_n)
    return {
        "yes": counts.yes,
        "no": counts.no,
        "na": counts.na,
        "n": r.n,
        "rate": r.value,
        "interval": [r.interval.low, r.interval.high] if r.interval else None,
        "too_few": r.too_few,
        "population": r.population,
        "audits": counts.audits,
        "design_effect": r.design_effect,
    }


def compliance_out(report: ComplianceReport, *, min_n: int) -> ComplianceOut:
    frame, sampled = report.frame_size, report.audits
    return ComplianceOut(
        frame_size=frame,
        audits=sampled,
        overall=[
            TemplateRateOut(template_key=t, **_rate(c, frame=frame, sampled=sampled, min_n=min_n))
            for t, c in report.overall.items()
        ],
        sections=[
            SectionRateOut(
                template_key=s.template_key,
                section_key=s.section_key,
                section_title=s.section_title,
                **_rate(s.counts, frame=frame, sampled=sampled, min_n=min_n),
            )
            for s in report.sections
        ],
        questions=[
            QuestionRateOut(
                template_key=q.template_key,
                section_key=q.section_key,
                section_title=q.section_title,
                question_key=q.question_key,
                label=q.label,
                **_rate(q.counts, frame=frame, sampled=sampled, min_n=min_n),
            )
            for q in report.questions
        ],
    )


def moderation_out(m: ModerationFigures) -> ModerationOut:
    a = m.agreement
    return ModerationOut(
        rounds=m.rounds,
        n=a.n,
        agreed=a.agreed,
        exact_agreement=a.exact_agreement,
        weighted_kappa=a.weighted_kappa,
        kappa_interval=list(a.interval) if a.interval else None,
        too_few=m.too_few,
        note=a.note,
        method=m.method,
    )


def recommendations_out(r: RecommendationFigures) -> RecommendationsOut:
    return RecommendationsOut(
        raised=r.raised,
        closed=r.closed,
        outstanding=r.outstanding,
        overdue=r.overdue,
        median_days_to_close=r.median_days,
        top_themes=[ThemeOut(id=t.theme_id, name=t.name, count=t.count) for t in r.themes],
    )


# --- The endpoint ---------------------------------------------------------------------------------------------


def summary_filter(params: dict[str, str | None], *, user: User, today: date) -> ReportFilter:
    """The report filter for the API's parameters (named as the contract: `cycle_id`, `from`, `to`,
    `service_area`, and the page's `team`, `template`, `case_type`), read by the page's own
    `report_filter_from_query`. A value that makes no sense: 422 naming the parameter. A head of service naming
    another service area: 403 (the page shows their own area and says so; an API caller is told plainly)."""
    page_params = {PARAMETERS[name]: value for name, value in params.items() if value is not None}
    flt = report_filter_from_query(page_params, user=user, today=today)
    errors = dict(flt.errors)
    other_area = (
        flt.area_locked
        and "service_area" in errors
        and QueryReader(page_params).row_id("service_area", AREA_MESSAGE) is not None
    )
    if other_area:
        errors.pop("service_area")
    if errors:
        raise RequestValidationError(
            [
                {"loc": ("query", API_NAME[name]), "msg": message, "type": "value_error"}
                for name, message in errors.items()
            ]
        )
    if other_area:
        raise PermissionDenied(flt.errors["service_area"])
    return flt


@router.get(
    "/reports/summary",
    response_model=ReportSummary,
    response_model_by_alias=True,
    responses={
        403: {
            "description": "Not a QA lead, head of service (with an area) or viewer; or a head of "
            "service asking for another service area"
        },
        404: {"description": "No cycle, service area or team with that id"},
        422: {"description": "A bad parameter, named in `detail[].loc`"},
    },
)
def reports_summary(
    request: Request,
    session: SessionDep,
    user: ReportReader,
    cycle_id: Annotated[str | None, Query(max_length=20, description="a cycle's id")] = None,
    date_from: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=10,
            description="completed on or after (YYYY-MM-DD, local); default: the first day of the month 11 months ago",
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(alias="to", max_length=10, description="completed on or before (YYYY-MM-DD, local); default: today"),
    ] = None,
    service_area: Annotated[
        str | None, Query(max_length=20, description="a service area's id (a head of service: their own only)")
    ] = None,
    team: Annotated[str | None, Query(max_length=20, description="a team's id")] = None,
    template: Annotated[str | None, Query(max_length=60, description="a template's key")] = None,
    case_type: Annotated[str | None, Query(max_length=10, description="a case type")] = None,
) -> ReportSummary:
    """The reports page's figures for completed audits in a period (default: the last 12 months), of a cycle and
    service area: grade distribution (final grades, the moderator's where moderated), compliance rates per section
    and per question with n and 95% Wilson intervals (corrected for the frame when the audits are one sample),
    moderation agreement on the overall grade (exact agreement, weighted kappa with its 95% interval) and
    recommendations (raised and closed in the period, outstanding and overdue now, median days to close, top
    themes).

    Roles as the page: the QA lead and viewers (every service area) and heads of service (their own area: without
    `service_area`, or naming it). A head of service naming another service area gets 403; anyone else 403. A
    value that makes no sense is a 422 naming the parameter; a cycle, service area or team that does not exist,
    404."""
    settings = request.app.state.settings
    flt = summary_filter(
        {
            "cycle_id": cycle_id,
            "from": date_from,
            "to": date_to,
            "service_area": service_area,
            "team": team,
            "template": template,
            "case_type": case_type,
        },
        user=user,
        today=settings.today(),
    )
    for model, value, what in (
        (Cycle, flt.cycle_id, "Cycle"),
        (ServiceArea, flt.service_area_id, "Service area"),
        (Team, flt.team_id, "Team"),
    ):
        if value is not None and session.get(model, value) is None:
            raise NotFound(f"{what} {value} not found")
    zone, min_n = settings.timezone, settings.report_min_n
    report = compliance(session, flt, zone)
    assert flt.date_from is not None and flt.date_to is not None  # the filter always has a period
    audit_bulk_read(
        session,
        actor=user,
        action="report.read",
        what="completed audits' figures",
        count=report.audits,
        filters={
            "cycle_id": flt.cycle_id,
            "from": flt.date_from.isoformat(),
            "to": flt.date_to.isoformat(),
            "service_area": flt.service_area_id,
            "team": flt.team_id,
            "template": flt.template_key,
            "case_type": flt.case_type,
        },
    )
    return ReportSummary(
        date_from=flt.date_from,
        date_to=flt.date_to,
        cycle_id=flt.cycle_id,
        service_area=flt.service_area_id,
        team=flt.team_id,
        template=flt.template_key,
        case_type=flt.case_type,
        min_n=min_n,
        audits=report.audits,
        grade_distribution=grades_out(grade_distribution(session, flt, zone)),
        compliance=compliance_out(report, min_n=min_n),
        moderation=moderation_out(moderation_figures(session, flt, zone, min_n=min_n)),
        recommendations=recommendations_out(recommendation_figures(session, flt, zone, today=settings.today())),
    )
