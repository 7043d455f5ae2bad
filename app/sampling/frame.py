"""The sampling frame as SQL: the cases a spec may draw from, with each exclusion counted separately."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, not_, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team
from app.audits.models import Audit
from app.cases.models import Case
from app.sampling.models import Cycle, Sample, SampleCase
from app.sampling.schemas import SampleFilters, SampleSpec

EARLY_HELP_LIST, REFERRAL_LIST = "List 2", "List 3"  # the involvement keys (app/cases/facts.py)
NO_VALUE = "(none)"  # the stratum of cases with no team, worker, ...


def filter_conditions(filters: SampleFilters, today: date) -> list[ColumnElement[bool]]:
    """The thematic filters as SQL conditions (all must hold)."""
    found: list[ColumnElement[bool]] = []
    if filters.case_types:
        found.append(Case.case_type.in_([kind.value for kind in filters.case_types]))
    if filters.team_ids:
        found.append(Case.team_id.in_(filters.team_ids))
    if filters.service_area_ids:
        found.append(Case.service_area_id.in_(filters.service_area_ids))
    if filters.legal_statuses:
        found.append(Case.legal_status.in_(filters.legal_statuses))
    for column, least in ((Case.missing_12m, filters.missing_12m_at_least),
                          (Case.absent_12m, filters.absent_12m_at_least),
                          (Case.placements_12m, filters.placements_12m_at_least)):
        if least is not None:
            found.append(column >= least)
    if filters.open_longer_than_months is not None:
        found.append(Case.start_date <= _months_before(today, filters.open_longer_than_months))
    if filters.visit_older_than_days is not None:
        cutoff = today - timedelta(days=filters.visit_older_than_days)
        found.append(or_(Case.last_statutory_visit.is_(None), Case.last_statutory_visit < cutoff))
    if filters.stepped_down_within_months is not None:
        found.append(stepped_down_since(_months_before(today, filters.stepped_down_within_months)))
    return found


def stepped_down_since(since: date) -> ColumnElement[bool]:
    """Stepped down from referral to early help: an early help involvement (Annex A list 2) that started on or
    after `since`, with a referral (list 3) that started no later than it. Dates are ISO strings in the JSON."""
    early_help = Case.involvements[(EARLY_HELP_LIST, "start")].as_string()
    referral = Case.involvements[(REFERRAL_LIST, "start")].as_string()
    return and_(early_help >= since.isoformat(), referral.is_not(None), referral <= early_help)


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, 28))


def exclusion_conditions(spec: SampleSpec, today: date) -> dict[str, ColumnElement[bool]]:
    """Each switched-on exclusion as the condition a case must meet to be EXCLUDED by it."""
    found: dict[str, ColumnElement[bool]] = {}
    if spec.exclude_closed:
        found["closed"] = Case.status != "open"
    if spec.exclude_audited_within_days:
        since = today - timedelta(days=spec.exclude_audited_within_days)
        recent = select(Audit.case_id).where(Audit.created_at >= datetime.combine(since, time.min, tzinfo=UTC))
        found["audited_recently"] = Case.id.in_(recent)
    if spec.exclude_in_open_sample:
        open_samples = (select(SampleCase.case_id).join(Sample, Sample.id == SampleCase.sample_id)
                        .join(Cycle, Cycle.id == Sample.cycle_id).where(Cycle.status != "closed"))
        found["in_open_sample"] = Case.id.in_(open_samples)
    return found


def stratum_column(strata_by: str | None) -> Any:
    """The SQL expression giving each case's stratum (team and service area by id: `stratum_names` names them)."""
    match strata_by:
        case "team":
            return Case.team_id
        case "service_area":
            return Case.service_area_id
        case "case_type":
            return Case.case_type
        case "worker":
            return Case.worker_name
        case "legal_status":
            return Case.legal_status
    return literal("")


def stratum_names(session: Session, strata_by: str | None) -> dict[Any, str]:
    """Readable stratum values for the id columns (a join per row costs more than this one small query)."""
    if strata_by == "team":
        return dict(session.execute(select(Team.id, Team.name)).all())
    if strata_by == "service_area":
        return dict(session.execute(select(ServiceArea.id, ServiceArea.name)).all())
    return {}


def frame_select(spec: SampleSpec, today: date) -> Select[Any]:
    """(case id, stratum) for every case in the frame: filters hold and no exclusion applies."""
    conditions = filter_conditions(spec.filters, today)
    conditions += [not_(c) for c in exclusion_conditions(spec, today).values()]
    return select(Case.id, stratum_column(spec.strata_by)).where(and_(*conditions) if conditions else True)


def exclusion_counts(session: Session, spec: SampleSpec, today: date) -> dict[str, int]:
    """How many cases matching the filters each exclusion removes (a case can be counted by several)."""
    base = filter_conditions(spec.filters, today)
    counts = {}
    for name, condition in exclusion_conditions(spec, today).items():
        stmt = select(func.count()).select_from(Case).where(and_(condition, *base))
        counts[name] = session.execute(stmt).scalar_one()
    return counts
