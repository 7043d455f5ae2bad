"""What the reports page is narrowed to: period, cycle, template, service area, team and case type.

`report_filter_from_query` reads the page's (and the API's) query parameters the way `recommendations.selectors.
filter_from_query` does: a value that makes no sense is dropped and named in `errors`. Scope is applied here, once:
the QA lead and viewers report on every service area; a head of service only ever on their own, whatever they ask.
`report_conditions` turns a filter into WHERE clauses on `Audit` joined to `Case`; every figure uses them, so
no figure can count an audit outside the filter or the reader's scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team, User
from app.accounts.roles import Role
from app.audit_templates.schema import KEY_PATTERN
from app.audits.models import Audit
from app.audits.workflow import states as workflow
from app.cases.facts import CaseType
from app.cases.models import Case
from app.dates import local_day_start, months_before
from app.errors import PermissionDenied
from app.sampling.models import Cycle
from app.web.query import QueryReader

DEFAULT_MONTHS = 12
# Dates outside these are bad input (and would overflow the time-zone arithmetic).
CASE_TYPES = tuple(t.value for t in CaseType)


@dataclass(frozen=True)
class ReportFilter:
    """Completed audits to report on. Query parameters: date_from and date_to (local dates of completion,
    YYYY-MM-DD, both inclusive), cycle, template (a template key), service_area, team, case_type."""

    date_from: date | None = None
    date_to: date | None = None
    cycle_id: int | None = None
    template_key: str | None = None
    service_area_id: int | None = None
    team_id: int | None = None
    case_type: str | None = None
    # True for a head of service: service_area_id is their own area and the page offers no other.
    area_locked: bool = False
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    def query(self, **changes: Any) -> dict[str, str]:
        """The query parameters that give this filter (with `changes`), for links and exports."""
        flt = replace(self, **changes) if changes else self
        pairs = {
            "date_from": flt.date_from,
            "date_to": flt.date_to,
            "cycle": flt.cycle_id,
            "template": flt.template_key,
            "service_area": None if flt.area_locked else flt.service_area_id,
            "team": flt.team_id,
            "case_type": flt.case_type,
        }
        return {k: str(v) for k, v in pairs.items() if v not in (None, "")}


def may_view_reports(user: User) -> bool:
    """The QA lead and viewers (every area), and a head of service with a service area (theirs)."""
    return user.has_role(Role.QA_LEAD, Role.VIEWER) or (
        user.has_role(Role.HEAD_OF_SERVICE) and user.scope_service_area_id is not None
    )


def default_period(today: date) -> tuple[date, date]:
    """The last 12 months: the 12 local calendar months ending with today's month (so every month of the trend is
    whole but the current one), up to today."""
    return months_before(today.replace(day=1), DEFAULT_MONTHS - 1), today


def report_filter_from_query(params: Mapping[str, str], *, user: User, today: date) -> ReportFilter:
    """Read a ReportFilter from query parameters, limited to what `user` may see. A bad value is dropped (the
    default used instead) and named in `errors`; a PermissionDenied for someone who may not see reports."""
    if not may_view_reports(user):
        raise PermissionDenied("Only the QA lead, heads of service and viewers can see the reports.")
    read = QueryReader(params)
    errors = read.errors

    default_from, default_to = default_period(today)
    date_from, date_to = read.day("date_from") or default_from, read.day("date_to") or default_to
    if date_from > date_to:
        errors["date_to"] = "The end of the period must be on or after its start"
        date_from, date_to = default_from, default_to

    template_key = read.text("template") or None
    if template_key is not None and not _is_key(template_key):
        errors["template"] = "Template must be a template's key, for example dip_sample"
        template_key = None
    case_type = read.choice("case_type", CASE_TYPES, "Case type must be one of " + ", ".join(CASE_TYPES))

    area = read.row_id("service_area", "Service area must be a service area's number")
    locked = not user.has_role(Role.QA_LEAD, Role.VIEWER)
    if locked:
        own = user.scope_service_area_id
        if area is not None and area != own:
            errors["service_area"] = "You can see reports for your own service area only"
        area = own
    return ReportFilter(
        date_from=date_from,
        date_to=date_to,
        cycle_id=read.row_id("cycle", "Cycle must be a cycle's number"),
        template_key=template_key,
        service_area_id=area,
        team_id=read.row_id("team", "Team must be a team's number"),
        case_type=case_type,
        area_locked=locked,
        errors=errors,
    )


def with_known_ids(session: Session, flt: ReportFilter) -> ReportFilter:
    """The filter without the cycle, service area or team it names when nothing has that number, or (for a head
    of service) when the team is another area's; each dropped id is named in `errors`."""
    errors, changes = dict(flt.errors), {}
    for attr, model, name, label in (
        ("cycle_id", Cycle, "cycle", "cycle"),
        ("service_area_id", ServiceArea, "service_area", "service area"),
        ("team_id", Team, "team", "team"),
    ):
        value = getattr(flt, attr)
        if value is None or (attr == "service_area_id" and flt.area_locked):
            continue
        row = session.get(model, value)
        if row is None:
            errors[name], changes[attr] = f"There is no {label} number {value}", None
        elif attr == "team_id" and flt.area_locked and row.service_area_id != flt.service_area_id:
            errors[name], changes[attr] = "You can see your own service area's teams only", None
    return replace(flt, errors=errors, **changes) if changes else flt


def report_filter(session: Session, params: Mapping[str, str], *, user: User, today: date) -> ReportFilter:
    """`report_filter_from_query`, then `with_known_ids`: what every reports page and download reads."""
    return with_known_ids(session, report_filter_from_query(params, user=user, today=today))


def _is_key(value: str) -> bool:
    return len(value) <= 60 and re.fullmatch(KEY_PATTERN, value) is not None


def report_conditions(flt: ReportFilter, zone: str, *, started: bool = False) -> list[Any]:
    """WHERE clauses on Audit joined to Case (`Case.id == Audit.case_id`): completed audits only, completed
    within the filter's local dates in `zone`, and the filter's cycle, template, area, team and case type. With
    `started`, every audit started within the dates instead, completed or not."""
    conds: list[Any] = [] if started else [Audit.status == workflow.COMPLETED, Audit.completed_at.is_not(None)]
    when = Audit.created_at if started else Audit.completed_at
    if flt.date_from is not None:
        conds.append(when >= local_day_start(flt.date_from, zone))
    if flt.date_to is not None:
        conds.append(when < local_day_start(flt.date_to + timedelta(days=1), zone))
    for column, value in (
        (Audit.cycle_id, flt.cycle_id),
        (Audit.template_key, flt.template_key),
        (Case.service_area_id, flt.service_area_id),
        (Case.team_id, flt.team_id),
        (Case.case_type, flt.case_type),
    ):
        if value is not None:
            conds.append(column == value)
    return conds


def selected_audits(flt: ReportFilter, zone: str, *columns: Any) -> Any:
    """SELECT `columns` FROM audit JOIN child_case WHERE the filter: the base of every figure's query."""
    return select(*columns).select_from(Audit).join(Case, Case.id == Audit.case_id).where(*report_conditions(flt, zone))
