"""The sampling frame as SQL: the cases a spec may draw from, with each exclusion counted separately."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Text, and_, case, func, literal, null, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.functions import FunctionElement
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
    for column, least in (
        (Case.missing_12m, filters.missing_12m_at_least),
        (Case.absent_12m, filters.absent_12m_at_least),
        (Case.placements_12m, filters.placements_12m_at_least),
    ):
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


def id_exclusions(spec: SampleSpec, today: date) -> dict[str, Select[Any]]:
    """The exclusions that name cases (switched on), each as the query of the case IDs it removes."""
    found: dict[str, Select[Any]] = {}
    if spec.exclude_audited_within_days:
        since = today - timedelta(days=spec.exclude_audited_within_days)
        found["audited_recently"] = select(Audit.case_id).where(
            Audit.created_at >= datetime.combine(since, time.min, tzinfo=UTC)
        )
    if spec.exclude_in_open_sample:
        found["in_open_sample"] = (
            select(SampleCase.case_id)
            .join(Sample, Sample.id == SampleCase.sample_id)
            .join(Cycle, Cycle.id == Sample.cycle_id)
            .where(Cycle.status != "closed")
        )
    return found


CLOSED = Case.status != "open"


def removed_by_id(session: Session, spec: SampleSpec, today: date) -> dict[str, dict[int, bool]]:
    """For each exclusion that names cases: the cases the filters pick that it removes (ID -> closed?).

    Looked up from the exclusion's side: a year's audits and the open samples are few beside the register,
    so this costs a lookup per excluded case, not a probe per case in the register.
    """
    conditions = filter_conditions(spec.filters, today)
    return {
        name: {
            case_id: bool(closed)
            for case_id, closed in session.execute(select(Case.id, CLOSED).where(Case.id.in_(ids), *conditions))
        }
        for name, ids in id_exclusions(spec, today).items()
    }


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


class id_list(FunctionElement[str]):
    """Aggregate: the IDs of a group as text joined by commas, NULLs skipped, in no particular order. The
    cheapest way to hand a large frame from the database to Python: one string per stratum, not a row per case."""

    type = Text()
    inherit_cache = True
    name = "id_list"


@compiles(id_list)
def _id_list_sqlite(element: id_list, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(id_list, "postgresql")
def _id_list_postgresql(element: id_list, compiler: Any, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


def frame_scan(spec: SampleSpec, today: date) -> Select[Any]:
    """One pass over the cases the filters pick: per stratum, the IDs (closed cases left out when that exclusion
    is on) and how many are closed. The exclusions that name cases are applied afterwards (`removed_by_id`)."""
    conditions = filter_conditions(spec.filters, today)
    where = and_(*conditions) if conditions else true()
    ids = id_list(case((CLOSED, None), else_=Case.id)) if spec.exclude_closed else id_list(Case.id)
    columns = [ids, func.count(case((CLOSED, 1)))]
    if spec.strata_by:
        stratum = stratum_column(spec.strata_by)
        return select(stratum, *columns).where(where).group_by(stratum)
    return select(null(), *columns).where(where)


def frame_counts(session: Session, spec: SampleSpec, today: date) -> tuple[int, dict[str, int]]:
    """For the form: the frame size, and what every exclusion (on or off) would remove from the filtered cases."""
    every = spec.model_copy(
        update={
            "exclude_closed": True,
            "exclude_in_open_sample": True,
            "exclude_audited_within_days": spec.exclude_audited_within_days or 365,
        }
    )
    removed = removed_by_id(session, every, today)
    conditions = filter_conditions(spec.filters, today)
    total, closed = session.execute(
        select(func.count(), func.count(case((CLOSED, 1)))).where(and_(*conditions) if conditions else true())
    ).one()
    switched_on = id_exclusions(spec, today)
    gone = {case_id: was_closed for name in switched_on for case_id, was_closed in removed[name].items()}
    size = total - (closed if spec.exclude_closed else 0)
    size -= sum(1 for was_closed in gone.values() if not (spec.exclude_closed and was_closed))
    return size, {"closed": closed, **{name: len(ids) for name, ids in removed.items()}}


@dataclass
class Frame:
    """The frame a draw is made from: its case IDs and each stratum's (one stratum, "", when not stratified), as
    sorted arrays, with what each switched-on exclusion removed."""

    case_ids: NDArray[np.int64] = field(default_factory=lambda: np.array([], dtype=np.int64))
    strata: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    exclusions: dict[str, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.case_ids)

    def stratum_of(self, case_id: int) -> str | None:
        for value, ids in self.strata.items():
            place = int(np.searchsorted(ids, case_id))
            if place < len(ids) and ids[place] == case_id:
                return value
        return None


def frame_load(session: Session, spec: SampleSpec, today: date) -> Frame:
    """The frame for `spec` as of `today`: one pass over the register, and a lookup per excluded case."""
    removed = removed_by_id(session, spec, today)
    excluded = np.fromiter(set().union(*removed.values()), dtype=np.int64)
    names = stratum_names(session, spec.strata_by)
    found: dict[str, list[NDArray[np.int64]]] = {}
    closed = 0
    for value, ids_text, closed_here in session.execute(frame_scan(spec, today)):
        closed += closed_here
        ids = np.fromstring(ids_text or "", dtype=np.int64, sep=",")  # text mode: C-speed parsing
        if len(excluded):
            ids = ids[~np.isin(ids, excluded)]
        if len(ids):
            label = "" if not spec.strata_by else names.get(value) or (NO_VALUE if value is None else str(value))
            found.setdefault(label, []).append(ids)
    strata = {label: np.sort(np.concatenate(parts)) for label, parts in found.items()}
    case_ids = np.sort(np.concatenate(list(strata.values()))) if strata else np.array([], dtype=np.int64)
    return Frame(
        case_ids=case_ids,
        strata=strata,
        exclusions=({"closed": closed} if spec.exclude_closed else {})
        | {name: len(ids) for name, ids in removed.items()},
    )
