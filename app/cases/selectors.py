"""Reads for the case register: the filtered, sorted, scoped case list and one case.

Every query takes the reader's scope (`app.audits.case_scope`, which calls these), so a case outside it is simply
not there. Filters compare indexed columns with constants (no functions on the column side),
so they stay index-friendly on a register of a million cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from sqlalchemy import ColumnElement, and_, or_, select
from sqlmodel import Session, col

from app.accounts.models import ServiceArea, Team, User
from app.cases.facts import CaseType
from app.cases.models import Case
from app.cases.schemas import CASE_PUBLIC_COLUMNS, CasePublic
from app.cases.scope import scope_service_area_ids
from app.db import valid_row_id
from app.pagination import Page, paginate

STATUSES = ("open", "closed", "all")
DEFAULT_STATUS = "open"

# Age bands as (youngest, oldest) in whole years; None: no upper limit.
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "0-4": (0, 4),
    "5-9": (5, 9),
    "10-15": (10, 15),
    "16-17": (16, 17),
    "18+": (18, None),
}
AGE_BAND_LABELS = {
    band: f"{low} to {high} years" if high is not None else f"{low} years and over"
    for band, (low, high) in AGE_BANDS.items()
}


@dataclass(frozen=True)
class Flag:
    label: str
    condition: ColumnElement[bool]


FLAGS: dict[str, Flag] = {
    "missing": Flag("Missing episodes in the last 12 months", Case.missing_12m > 0),
    "absent": Flag("Absent episodes in the last 12 months", Case.absent_12m > 0),
    "no_visit": Flag("No statutory visit recorded", Case.last_statutory_visit.is_(None)),
}

# Sortable columns by the name used in URLs; anything else sorts by child ID.
SORTS: dict[str, ColumnElement] = {
    "child_id": Case.child_id,
    "case_type": Case.case_type,
    "team": Team.name,
    "worker": Case.worker_name,
    "start_date": Case.start_date,
    "last_statutory_visit": Case.last_statutory_visit,
}
DEFAULT_SORT = "child_id"
NOT_NULL_SORTS = frozenset({"child_id", "case_type"})


def sort_or_default(sort: str | None, order: str | None) -> tuple[str, str]:
    """A whitelisted (sort, order): unknown values fall back to child ID, ascending."""
    return (sort if sort in SORTS else DEFAULT_SORT), ("desc" if order == "desc" else "asc")


def age_on(birth_year: int | None, birth_month: int | None, today: date) -> int | None:
    """Age in whole years from month and year of birth (the birthday taken as the 1st of the month)."""
    if birth_year is None:
        return None
    month = birth_month or 1
    return today.year - birth_year - (1 if today.month < month else 0)


def _born_on_or_before(year: int, month: int) -> ColumnElement[bool]:
    # An unknown month counts as January, as in age_on.
    return or_(
        Case.birth_year < year,
        and_(Case.birth_year == year, or_(Case.birth_month.is_(None), Case.birth_month <= month)),
    )


def age_band_condition(band: str, today: date) -> ColumnElement[bool] | None:
    """Cases whose child's age today is in the band, as comparisons on birth year and month."""
    if band not in AGE_BANDS:
        return None
    youngest, oldest = AGE_BANDS[band]
    # Aged at least n today <=> born in or before (today.year - n, today.month).
    conditions = [_born_on_or_before(today.year - youngest, today.month)]
    if oldest is not None:
        conditions.append(~_born_on_or_before(today.year - oldest - 1, today.month))
    return and_(*conditions)


def _prefix_condition(prefix: str) -> ColumnElement[bool]:
    # A range, not LIKE or a function, so the unique index on child_id serves it; the LIKE that
    # follows keeps the match exact wherever a collation orders the range loosely.
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return and_(Case.child_id >= prefix, Case.child_id < upper, Case.child_id.like(f"{escaped}%", escape="\\"))


def child_id_condition(q: str) -> ColumnElement[bool] | None:
    """Child IDs equal to or starting with `q` (as typed, or in capitals)."""
    q = q.strip()
    if not q:
        return None
    forms = dict.fromkeys([q, q.upper()])
    parts = [_prefix_condition(form) for form in forms]
    return parts[0] if len(parts) == 1 else or_(*parts)


def cases_page(
    session: Session,
    *,
    scope: ColumnElement[bool] | None,
    today: date,
    status: str | None = DEFAULT_STATUS,
    case_type: str | None = None,
    team_id: int | None = None,
    service_area_id: int | None = None,
    worker: str | None = None,
    age_band: str | None = None,
    flags: Iterable[str] = (),
    q: str | None = None,
    sort: str | None = DEFAULT_SORT,
    order: str | None = "asc",
    page: int | None = 1,
    page_size: int | None = None,
    clamp_to_last: bool = False,
) -> Page[Case]:
    """The cases within `scope` (None: all) that match every filter given, one page of them, sorted."""
    stmt = select(Case)
    if scope is not None:
        stmt = stmt.where(scope)
    if status in ("open", "closed"):
        stmt = stmt.where(Case.status == status)
    if case_type:
        stmt = stmt.where(Case.case_type == case_type)
    if team_id is not None:
        stmt = stmt.where(Case.team_id == (team_id if valid_row_id(team_id) else -1))
    if service_area_id is not None:
        stmt = stmt.where(Case.service_area_id == (service_area_id if valid_row_id(service_area_id) else -1))
    if worker and worker.strip():
        stmt = stmt.where(Case.worker_name == " ".join(worker.split()))
    if age_band:
        band = age_band_condition(age_band, today)
        if band is not None:
            stmt = stmt.where(band)
    for flag in dict.fromkeys(flags):
        if flag in FLAGS:
            stmt = stmt.where(FLAGS[flag].condition)
    if q:
        match = child_id_condition(q)
        if match is not None:
            stmt = stmt.where(match)
    sort, order = sort_or_default(sort, order)
    if sort == "team":
        stmt = stmt.outerjoin(Team, Team.id == Case.team_id)
    column = SORTS[sort]
    key = column.desc() if order == "desc" else column.asc()
    # Blank dates and names last either way, the same on SQLite and PostgreSQL. Not for columns that are
    # never blank: "DESC NULLS LAST" would stop PostgreSQL reading the child_id index backwards.
    if sort not in NOT_NULL_SORTS:
        key = key.nulls_last()
    stmt = stmt.order_by(key, Case.id.desc() if order == "desc" else Case.id)
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


def case_get(session: Session, *, scope: ColumnElement[bool] | None, case_id: int) -> Case | None:
    """The case, if it exists and is within `scope` (None: all); None either way otherwise (the caller says 404)."""
    if not valid_row_id(case_id):
        return None
    stmt = select(Case).where(Case.id == case_id)
    if scope is not None:
        stmt = stmt.where(scope)
    return session.execute(stmt).scalar_one_or_none()


CHILD_ID_MAX_LENGTH = 40  # as the register keeps them (Case.child_id)


def case_by_child_id(session: Session, *, scope: ColumnElement[bool] | None, child_id: str) -> Case | None:
    """The case of a child ID someone typed (as typed, or in capitals), if it is within `scope` (None: all)."""
    typed = child_id.strip()
    if not typed or len(typed) > CHILD_ID_MAX_LENGTH:
        return None
    stmt = select(Case).where(col(Case.child_id).in_(list(dict.fromkeys([typed, typed.upper()]))))
    if scope is not None:
        stmt = stmt.where(scope)
    found = {case.child_id: case for case in session.execute(stmt).scalars()}
    return found.get(typed) or found.get(typed.upper())


def teams_by_id(session: Session) -> dict[int, Team]:
    """Every team (there are tens, not thousands), to name the teams on a page of cases."""
    return {team.id: team for team in session.execute(select(Team)).unique().scalars()}


def service_areas_by_id(session: Session) -> dict[int, ServiceArea]:
    return {area.id: area for area in session.execute(select(ServiceArea)).scalars()}


def filter_choices(session: Session, *, user: User) -> tuple[list[ServiceArea], list[Team]]:
    """The service areas and teams worth offering as filters to `user`: those in their scope."""
    allowed = scope_service_area_ids(user)
    areas = [
        a
        for a in session.execute(select(ServiceArea).order_by(ServiceArea.name)).scalars()
        if allowed is None or a.id in allowed
    ]
    area_ids = {a.id for a in areas}
    teams = [
        t for t in session.execute(select(Team).order_by(Team.name)).unique().scalars() if t.service_area_id in area_ids
    ]
    return areas, teams


def case_type_label(value: str) -> str:
    try:
        return CaseType(value).label
    except ValueError:
        return value


def case_public(case: Case, *, teams: dict[int, Team], areas: dict[int, ServiceArea], today: date) -> CasePublic:
    team = teams.get(case.team_id) if case.team_id is not None else None
    area = areas.get(case.service_area_id) if case.service_area_id is not None else None
    return CasePublic(
        **{name: getattr(case, name) for name in CASE_PUBLIC_COLUMNS},
        case_type_label=case_type_label(case.case_type),
        team=team.name if team else None,
        service_area=area.name if area else None,
        age=age_on(case.birth_year, case.birth_month, today),
    )


def case_system_url(template: str | None, child_id: str) -> str | None:
    """The child's record in the case management system, or None when no template is configured."""
    if not template or not template.strip():
        return None
    return template.strip().replace("{child_id}", quote(child_id, safe=""))


def birth_label(case: Case) -> str | None:
    """Month and year of birth as people write it ("March 2015"), or the year alone."""
    if case.birth_year is None:
        return None
    if case.birth_month and 1 <= case.birth_month <= 12:
        return date(case.birth_year, case.birth_month, 1).strftime("%B %Y")
    return str(case.birth_year)


@dataclass(frozen=True)
class Involvement:
    list_key: str
    start: date | None
    end: date | None


def involvement_rows(case: Case) -> list[Involvement]:
    """The lists the case's facts came from, with the dates of each involvement."""

    def _date(value: object) -> date | None:
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None

    rows = []
    for key, value in sorted((case.involvements or {}).items()):
        value = value if isinstance(value, dict) else {}
        rows.append(Involvement(key, _date(value.get("start")), _date(value.get("end"))))
    for key in case.source_lists or []:
        if key not in (case.involvements or {}):
            rows.append(Involvement(key, None, None))
    return rows
