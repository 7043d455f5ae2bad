"""Reads for recommendations: one, a filtered page (the list, "My actions", the drill-down behind every dashboard
figure, the API and the exports all use `ListFilter`), rows with the names pages show, and an item's history.

Every read is limited by `scope.visible_condition`, so no filter can reach past what the viewer may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, exists, func, or_, select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team, User
from app.accounts.roles import Role
from app.cases.models import Case
from app.dates import local_day_start, months_before
from app.db import valid_row_id
from app.pagination import Page, paginate
from app.recommendations import rules, scope
from app.recommendations.models import (
    Recommendation,
    RecommendationEvent,
    RecommendationTheme,
    Theme,
)
from app.sampling.models import Cycle
from app.web.query import QueryReader

# ?status= values beyond the statuses themselves
OUTSTANDING, OVERDUE, AWAITING = "outstanding", "overdue", "awaiting_verification"
STATUS_FILTERS = (OUTSTANDING, OVERDUE, AWAITING, *rules.STATUSES)
STATUS_FILTER_LABELS = {
    OUTSTANDING: "Outstanding",
    OVERDUE: "Overdue",
    AWAITING: "Awaiting verification",
    **rules.STATUS_LABELS,
}
SORTS = ("due", "raised", "overdue")


@dataclass(frozen=True)
class ListFilter:
    """What a list of recommendations is narrowed to. Query parameters: status, bucket, team, service_area, theme,
    priority, cycle, owner (an id, or "me"), raised_by ("me"), q, raised_within and closed_within (3 or 12 months),
    raised_from and raised_to (local dates, YYYY-MM-DD, both inclusive: the themes page's month links)."""

    status: str | None = None
    bucket: str | None = None  # an ageing bucket (rules.AGEING_BUCKETS); implies outstanding
    team_id: int | None = None
    service_area_id: int | None = None
    theme_id: int | None = None
    priority: str | None = None
    cycle_id: int | None = None
    owner_id: int | None = None
    raised_by_id: int | None = None
    q: str | None = None
    raised_within: int | None = None  # months
    closed_within: int | None = None  # months
    raised_from: date | None = None  # local date, inclusive
    raised_to: date | None = None  # local date, inclusive
    sort: str = "due"
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    def query(self, **changes: Any) -> dict[str, str]:
        """The query parameters that give this filter (with `changes`), for links and the export buttons."""
        flt = replace(self, **changes) if changes else self
        pairs = {
            "status": flt.status,
            "bucket": flt.bucket,
            "team": flt.team_id,
            "service_area": flt.service_area_id,
            "theme": flt.theme_id,
            "priority": flt.priority,
            "cycle": flt.cycle_id,
            "owner": flt.owner_id,
            "raised_by": flt.raised_by_id,
            "q": flt.q,
            "raised_within": flt.raised_within,
            "closed_within": flt.closed_within,
            "raised_from": flt.raised_from,
            "raised_to": flt.raised_to,
            "sort": None if flt.sort == "due" else flt.sort,
        }
        return {k: str(v) for k, v in pairs.items() if v not in (None, "")}


def filter_from_query(params: Mapping[str, str], *, user: User) -> ListFilter:
    """Read a ListFilter from query parameters. A value that makes no sense is dropped and named in `errors` (the
    API answers 422 with them; pages show the list unfiltered by it and say so)."""
    read = QueryReader(params)
    me = user.id if user is not None else None

    def months(name: str) -> int | None:
        value = read.choice(name, tuple(str(m) for m in rules.WINDOWS), "Choose 3 or 12 months")
        return int(value) if value else None

    return ListFilter(
        status=read.choice("status", STATUS_FILTERS, "Status must be one of " + ", ".join(STATUS_FILTERS)),
        bucket=read.choice("bucket", rules.AGEING_BUCKETS, "Ageing must be one of " + ", ".join(rules.AGEING_BUCKETS)),
        team_id=read.row_id("team", "Team must be a team's number"),
        service_area_id=read.row_id("service_area", "Service area must be a service area's number"),
        theme_id=read.row_id("theme", "Theme must be a theme's number"),
        priority=read.choice("priority", rules.PRIORITIES, "Priority must be urgent, high or normal"),
        cycle_id=read.row_id("cycle", "Cycle must be a cycle's number"),
        owner_id=read.row_id("owner", 'Owner must be "me" or a user\'s number', me=me),
        raised_by_id=read.row_id("raised_by", 'Raised by must be "me" or a user\'s number', me=me),
        q=read.text("q")[:200] or None,
        raised_within=months("raised_within"),
        closed_within=months("closed_within"),
        raised_from=read.day("raised_from"),
        raised_to=read.day("raised_to"),
        sort=read.choice("sort", SORTS, "Sort must be due, raised or overdue") or "due",
        errors=read.errors,
    )


def filter_conditions(flt: ListFilter, *, today: date, zone: str) -> list[Any]:
    """The WHERE clauses for a filter (without scope): `today` is the local date that "overdue" is counted from."""
    conds: list[Any] = []
    if flt.status == OUTSTANDING or flt.bucket:
        conds.append(Recommendation.status.in_(rules.OUTSTANDING))
    elif flt.status == OVERDUE:
        conds += [Recommendation.status.in_(rules.OUTSTANDING), Recommendation.due_date < today]
    elif flt.status == AWAITING:
        conds.append(Recommendation.status == rules.COMPLETED)
    elif flt.status in rules.STATUSES:
        conds.append(Recommendation.status == flt.status)
    if flt.bucket:
        conds += bucket_conditions(flt.bucket, today)
    for column, value in (
        (Recommendation.team_id, flt.team_id),
        (Recommendation.service_area_id, flt.service_area_id),
        (Recommendation.priority, flt.priority),
        (Recommendation.cycle_id, flt.cycle_id),
        (Recommendation.owner_id, flt.owner_id),
        (Recommendation.raised_by_id, flt.raised_by_id),
    ):
        if value is not None:
            conds.append(column == value)
    if flt.theme_id is not None:
        conds.append(
            exists().where(
                RecommendationTheme.recommendation_id == Recommendation.id, RecommendationTheme.theme_id == flt.theme_id
            )
        )
    if flt.q:
        conds.append(Recommendation.text.ilike(f"%{_like_escape(flt.q)}%", escape="\\"))
    if flt.raised_within:
        start = local_day_start(months_before(today, flt.raised_within), zone)
        conds.append(Recommendation.raised_at >= start)
    if flt.closed_within:
        start = local_day_start(months_before(today, flt.closed_within), zone)
        conds += [Recommendation.status == rules.CLOSED, Recommendation.closed_at >= start]
    if flt.raised_from:
        conds.append(Recommendation.raised_at >= local_day_start(flt.raised_from, zone))
    if flt.raised_to:
        conds.append(Recommendation.raised_at < local_day_start(flt.raised_to + timedelta(days=1), zone))
    return conds


def bucket_conditions(bucket: str, today: date) -> list[Any]:
    """Due-date bounds for an ageing bucket (the same boundaries as rules.ageing_bucket)."""

    def ago(days: int) -> date:
        return today - timedelta(days=days)

    bounds = {
        "not_due": (today, None),
        "0-30": (ago(30), today),
        "31-60": (ago(60), ago(30)),
        "61-90": (ago(90), ago(60)),
        "90+": (None, ago(90)),
    }
    low, high = bounds[bucket]  # low <= due_date < high
    conds = []
    if low is not None:
        conds.append(Recommendation.due_date >= low)
    if high is not None:
        conds.append(Recommendation.due_date < high)
    return conds


def bucket_expression(today: date) -> Any:
    """A SQL CASE giving each row's ageing bucket, for GROUP BY (same boundaries as rules.ageing_bucket)."""

    return case(
        (Recommendation.due_date >= today, "not_due"),
        (Recommendation.due_date >= today - timedelta(days=30), "0-30"),
        (Recommendation.due_date >= today - timedelta(days=60), "31-60"),
        (Recommendation.due_date >= today - timedelta(days=90), "61-90"),
        else_="90+",
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def recommendations_select(session: Session, *, user: User, flt: ListFilter, today: date, zone: str) -> Any:
    """The SELECT behind a list (scope and filter applied, in the filter's order)."""
    order = {
        "due": (Recommendation.due_date, Recommendation.id),
        "raised": (Recommendation.raised_at.desc(), Recommendation.id.desc()),
        "overdue": (Recommendation.status.in_(rules.OUTSTANDING).desc(), Recommendation.due_date, Recommendation.id),
    }[flt.sort]
    return (
        select(Recommendation)
        .where(scope.visible_condition(session, user=user), *filter_conditions(flt, today=today, zone=zone))
        .order_by(*order)
    )


def recommendations_page(
    session: Session,
    *,
    user: User,
    flt: ListFilter,
    today: date,
    zone: str,
    page: int | None = 1,
    page_size: int | None = None,
    clamp_to_last: bool = False,
) -> Page[Recommendation]:
    stmt = recommendations_select(session, user=user, flt=flt, today=today, zone=zone)
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


def recommendation_get(session: Session, *, recommendation_id: int) -> Recommendation | None:
    return session.get(Recommendation, recommendation_id) if valid_row_id(recommendation_id) else None


# --- Rows as pages show them -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendationRow:
    item: Recommendation
    owner_name: str
    raised_by_name: str
    team_name: str
    service_area_name: str
    child_id: str
    cycle_title: str
    themes: list[str]
    days_overdue: int  # > 0 when overdue (outstanding items only)
    level: rules.Level | None  # escalation level of an overdue outstanding item

    @property
    def status_label(self) -> str:
        return rules.STATUS_LABELS.get(self.item.status, self.item.status)

    @property
    def priority_label(self) -> str:
        return rules.PRIORITY_LABELS.get(self.item.priority, self.item.priority)

    @property
    def level_label(self) -> str:
        return rules.LEVEL_LABELS[self.level] if self.level else ""

    @property
    def is_overdue(self) -> bool:
        return self.days_overdue > 0


def themes_by_item(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    stmt = (
        select(RecommendationTheme.recommendation_id, Theme.name)
        .join(Theme, Theme.id == RecommendationTheme.theme_id)
        .where(RecommendationTheme.recommendation_id.in_(ids))
        .order_by(func.lower(Theme.name))
    )
    for item_id, name in session.execute(stmt):
        found.setdefault(item_id, []).append(name)
    return found


def recommendation_rows(
    session: Session, *, items: list[Recommendation], today: date, thresholds: rules.Thresholds
) -> list[RecommendationRow]:
    """Rows for a list, in a fixed number of queries whatever its length."""
    if not items:
        return []
    ids = [i.id for i in items if i.id is not None]
    user_ids = {u for i in items for u in (i.owner_id, i.raised_by_id)}
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all())
    teams = dict(
        session.execute(select(Team.id, Team.name).where(Team.id.in_({i.team_id for i in items if i.team_id}))).all()
    )
    areas = dict(
        session.execute(
            select(ServiceArea.id, ServiceArea.name).where(
                ServiceArea.id.in_({i.service_area_id for i in items if i.service_area_id})
            )
        ).all()
    )
    children = dict(
        session.execute(
            select(Case.id, Case.child_id).where(Case.id.in_({i.case_id for i in items if i.case_id}))
        ).all()
    )
    cycles = dict(
        session.execute(
            select(Cycle.id, Cycle.title).where(Cycle.id.in_({i.cycle_id for i in items if i.cycle_id}))
        ).all()
    )
    themes = themes_by_item(session, ids)
    rows = []
    for item in items:
        days = rules.days_overdue(item.due_date, today) if item.status in rules.OUTSTANDING else 0
        rows.append(
            RecommendationRow(
                item=item,
                owner_name=names.get(item.owner_id, ""),
                raised_by_name=names.get(item.raised_by_id, ""),
                team_name=teams.get(item.team_id, "") if item.team_id else "",
                service_area_name=areas.get(item.service_area_id, "") if item.service_area_id else "",
                child_id=children.get(item.case_id, "") if item.case_id else "",
                cycle_title=cycles.get(item.cycle_id, "") if item.cycle_id else "",
                themes=themes.get(item.id or 0, []),
                days_overdue=max(days, 0),
                level=rules.escalation_level(days, thresholds) if days > 0 else None,
            )
        )
    return rows


@dataclass(frozen=True)
class HistoryEntry:
    event: RecommendationEvent
    actor_name: str

    @property
    def label(self) -> str:
        return HISTORY_LABELS.get(self.event.action, self.event.action)


HISTORY_LABELS = {
    "raise": "Raised",
    "start": "Started",
    "complete": "Completed",
    "close": "Verified and closed",
    "reopen": "Reopened",
    "due_date": "Due date changed",
}


def recommendation_history(session: Session, *, recommendation_id: int) -> list[HistoryEntry]:
    stmt = (
        select(RecommendationEvent, User.full_name)
        .join(User, User.id == RecommendationEvent.actor_id, isouter=True)
        .where(RecommendationEvent.recommendation_id == recommendation_id)
        .order_by(RecommendationEvent.created_at, RecommendationEvent.id)
    )
    return [HistoryEntry(event=e, actor_name=name or "") for e, name in session.execute(stmt)]


def theme_ids_for(session: Session, *, recommendation_id: int) -> list[int]:
    stmt = select(RecommendationTheme.theme_id).where(RecommendationTheme.recommendation_id == recommendation_id)
    return list(session.execute(stmt).scalars())


def recommendations_for_audit(session: Session, *, audit_id: int) -> list[Recommendation]:
    stmt = select(Recommendation).where(Recommendation.audit_id == audit_id).order_by(Recommendation.id)
    return list(session.execute(stmt).scalars())


def filter_choices(session: Session, *, user: User) -> dict[str, Any]:
    """Options for the filter form: teams and areas (within the viewer's reach), themes, cycles."""
    teams_stmt = select(Team).order_by(func.lower(Team.name))
    areas_stmt = select(ServiceArea).order_by(func.lower(ServiceArea.name))
    if not user.has_role(Role.QA_LEAD):
        area = user.scope_service_area_id
        teams_stmt = teams_stmt.where(
            or_(Team.service_area_id == area, Team.id.in_(sorted(scope.managed_team_ids(session, user=user)) or [0]))
        )
        areas_stmt = areas_stmt.where(ServiceArea.id == area)
    return {
        "teams": list(session.execute(teams_stmt).unique().scalars()),
        "service_areas": list(session.execute(areas_stmt).scalars()),
        "themes": list(session.execute(select(Theme).order_by(func.lower(Theme.name))).scalars()),
        "cycles": list(session.execute(select(Cycle).order_by(Cycle.id.desc())).scalars()),
        "statuses": [(s, STATUS_FILTER_LABELS[s]) for s in STATUS_FILTERS],
        "buckets": [(b, rules.AGEING_LABELS[b]) for b in rules.AGEING_BUCKETS],
        "priorities": [(p, rules.PRIORITY_LABELS[p]) for p in rules.PRIORITIES],
    }


def my_actions(session: Session, *, user: User) -> list[Recommendation]:
    """The owner's outstanding recommendations, due soonest (most overdue) first."""
    stmt = (
        select(Recommendation)
        .where(Recommendation.owner_id == user.id, Recommendation.status.in_(rules.OUTSTANDING))
        .order_by(Recommendation.due_date, Recommendation.id)
    )
    return list(session.execute(stmt).scalars())


def _awaiting_conditions(user: User) -> list[Any]:
    """Completed items this user may verify and does not own: their area's (head of service), those they raised
    or whose audit was theirs, or all (QA lead)."""
    from app.audits.models import Audit

    conds: list[Any] = [Recommendation.status == rules.COMPLETED, Recommendation.owner_id != user.id]
    if not user.has_role(Role.QA_LEAD):
        mine = [
            Recommendation.raised_by_id == user.id,
            Recommendation.audit_id.in_(select(Audit.id).where(Audit.auditor_id == user.id)),
        ]
        if user.has_role(Role.HEAD_OF_SERVICE) and user.scope_service_area_id is not None:
            mine.append(Recommendation.service_area_id == user.scope_service_area_id)
        conds.append(or_(*mine))
    return conds


def awaiting_verification_by(session: Session, *, user: User, limit: int = 50) -> list[Recommendation]:
    """What waits for this user to verify it, oldest completed first."""
    stmt = (
        select(Recommendation)
        .where(*_awaiting_conditions(user))
        .order_by(Recommendation.completed_at, Recommendation.id)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def select_items(blank: str, pairs: list[tuple[Any, str]], current: Any) -> list[dict[str, Any]]:
    """Items for a GOV.UK select: a blank "any" choice, then each (value, label), the current one selected."""
    chosen = "" if current is None else str(current)
    return [{"value": "", "text": blank}] + [
        {"value": str(v), "text": label, "selected": str(v) == chosen} for v, label in pairs
    ]


def filter_selects(choices: dict[str, Any], flt: ListFilter) -> dict[str, list[dict[str, Any]]]:
    """The filter form's selects (status, bucket, service_area, team, priority, theme, cycle) for `flt`."""
    return {
        "status": select_items("Any status", choices["statuses"], flt.status),
        "bucket": select_items("Any", choices["buckets"], flt.bucket),
        "service_area": select_items(
            "Any service area", [(a.id, a.name) for a in choices["service_areas"]], flt.service_area_id
        ),
        "team": select_items("Any team", [(t.id, t.name) for t in choices["teams"]], flt.team_id),
        "priority": select_items("Any priority", choices["priorities"], flt.priority),
        "theme": select_items("Any theme", [(t.id, t.name) for t in choices["themes"]], flt.theme_id),
        "cycle": select_items("Any cycle", [(c.id, c.title) for c in choices["cycles"]], flt.cycle_id),
    }


@dataclass(frozen=True)
class AuditRecommendations:
    total: int
    outstanding: int


def recommendation_summary(session: Session, *, audit: Any, user: User) -> AuditRecommendations | None:
    """How many recommendations an audit has (for its page), or None when this user may not raise or list them."""
    if not scope.may_raise_on_audit(session, user=user, audit=audit):
        return None
    stmt = select(
        func.count(), func.coalesce(func.sum(case((Recommendation.status.in_(rules.OUTSTANDING), 1), else_=0)), 0)
    ).where(Recommendation.audit_id == audit.id)
    total, outstanding = session.execute(stmt).one()
    return AuditRecommendations(total=int(total), outstanding=int(outstanding))


@dataclass(frozen=True)
class ActionCounts:
    """What the home page tells a person about their recommendations."""

    outstanding: int  # owned, not yet closed
    overdue: int  # owned, outstanding and past the due date
    to_verify: int  # completed items waiting for this person to verify them


def action_counts(session: Session, *, user: User, today: date) -> ActionCounts:
    owned = select(func.count(), func.coalesce(func.sum(case((Recommendation.due_date < today, 1), else_=0)), 0)).where(
        Recommendation.owner_id == user.id, Recommendation.status.in_(rules.OUTSTANDING)
    )
    outstanding, overdue = session.execute(owned).one()
    return ActionCounts(
        outstanding=int(outstanding),
        overdue=int(overdue),
        to_verify=session.execute(
            select(func.count()).select_from(Recommendation).where(*_awaiting_conditions(user))
        ).scalar_one(),
    )
