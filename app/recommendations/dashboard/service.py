"""The head of service dashboard: what is outstanding in each team, how overdue it is, what awaits verification
and how quickly recommendations close, for one service area (or every area, for the QA lead).

Each figure is counted with the very conditions its drill-down link gives the list page (`figure_filter` builds
both), so a figure and the list behind it cannot disagree. The counting is done by the database (a few grouped
queries); Python only assembles the small results, in the plain functions below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import case, func, select
from sqlmodel import Session

from app.accounts.models import Team
from app.dates import local_day_start, months_before
from app.recommendations import rules, selectors
from app.recommendations.models import Recommendation
from app.recommendations.selectors import (
    AWAITING,
    OUTSTANDING,
    OVERDUE,
    ListFilter,
    RecommendationRow,
)

LIST_PATH = "/recommendations"
SHORT_LIST = 10  # the oldest overdue and the oldest awaiting verification
NO_TEAM = "No team"


@dataclass(frozen=True)
class TeamLine:
    """Outstanding recommendations of one team (team_id None: the totals, or items with no team)."""

    team_id: int | None
    name: str
    open: int = 0
    in_progress: int = 0
    awaiting: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.open + self.in_progress + self.awaiting


@dataclass(frozen=True)
class BucketCount:
    key: str  # rules.AGEING_BUCKETS
    label: str
    count: int
    share: float  # of the largest bucket (0 to 1), for the bar's length


@dataclass(frozen=True)
class Closure:
    """How recommendations close over the last `months`: of those raised in the window, how many are closed; and
    how long those closed in the window took."""

    months: int
    since: date  # the window's first local day
    raised: int
    closed: int  # of those raised in the window
    closed_in_window: int  # whenever raised
    median_days: float | None  # to close, over those closed in the window

    @property
    def rate(self) -> float | None:
        """Closed ÷ raised; None when nothing was raised."""
        return self.closed / self.raised if self.raised else None


@dataclass(frozen=True)
class Dashboard:
    teams: list[TeamLine]
    totals: TeamLine
    buckets: list[BucketCount]
    oldest_overdue: list[RecommendationRow]
    oldest_awaiting: list[RecommendationRow]
    closure: list[Closure]

    @property
    def outstanding(self) -> int:
        return self.totals.total

    @property
    def overdue(self) -> int:
        return self.totals.overdue

    @property
    def awaiting(self) -> int:
        return self.totals.awaiting


# --- Filters and links ----------------------------------------------------------------------------


def dashboard_filter(flt: ListFilter, *, service_area_id: int | None) -> ListFilter:
    """What the dashboard counts: the area, and only the filter's team, theme, priority and cycle."""
    return ListFilter(
        service_area_id=service_area_id,
        team_id=flt.team_id,
        theme_id=flt.theme_id,
        priority=flt.priority,
        cycle_id=flt.cycle_id,
    )


# query parameter -> (ListFilter field, what to say when the value is not among the options)
CHOICE_FIELDS = {
    "service_area": ("service_area_id", "Choose a service area from the list"),
    "team": ("team_id", "Choose a team from the list"),
    "theme": ("theme_id", "Choose a theme from the list"),
    "cycle": ("cycle_id", "Choose an audit cycle from the list"),
}
FILTER_PARAMS = (*CHOICE_FIELDS, "priority")


def checked_filter(flt: ListFilter, *, options: dict[str, set[int]]) -> tuple[ListFilter, dict[str, str]]:
    """The filter without any area, team, theme or cycle that is not among the form's `options` (a stale link,
    another area's team), and what was dropped, by query parameter, with the filter's own errors for these."""
    errors = {name: message for name, message in flt.errors.items() if name in FILTER_PARAMS}
    changes: dict[str, None] = {}
    for name, (field, message) in CHOICE_FIELDS.items():
        value = getattr(flt, field)
        if value is not None and value not in options.get(name, set()):
            changes[field] = None
            errors[name] = message
    return replace(flt, **changes), errors


def figure_filter(base: ListFilter, **changes: Any) -> ListFilter:
    """The filter behind one figure (e.g. status="overdue", or bucket="31-60"): what it counts and links to."""
    return replace(base, **changes)


def list_url(base: ListFilter, path: str = LIST_PATH, **changes: Any) -> str:
    """The link to the list (or an export) of what a figure counts."""
    query = figure_filter(base, **changes).query()
    return f"{path}?{urlencode(query)}" if query else path


def window_start(today: date, months: int, zone: str) -> datetime:
    """The start of the "last `months` months" window: local midnight that many calendar months ago."""
    return local_day_start(months_before(today, months), zone)


# --- Assembling the grouped counts (pure) -----------------------------------------------------------


# One group of outstanding items: (team id, team name, status, ageing bucket, how many).
Group = tuple[int | None, str | None, str, str, int]


def team_lines(groups: Iterable[Group]) -> tuple[list[TeamLine], TeamLine]:
    """Lines by team, in name order (items with no team last), and the totals, from the outstanding groups."""
    tallies: dict[int | None, dict[str, Any]] = {}
    for team_id, name, status, bucket, n in groups:
        tally = tallies.setdefault(
            team_id,
            {
                "name": name if team_id is not None else NO_TEAM,
                "open": 0,
                "in_progress": 0,
                "awaiting": 0,
                "overdue": 0,
            },
        )
        tally[_STATUS_FIELD[status]] += n
        if bucket != "not_due":
            tally["overdue"] += n
    lines = [TeamLine(team_id=t, **tally) for t, tally in tallies.items()]
    lines.sort(key=lambda line: (line.team_id is None, line.name.lower(), line.team_id or 0))
    totals = TeamLine(
        team_id=None,
        name="All teams",
        open=sum(x.open for x in lines),
        in_progress=sum(x.in_progress for x in lines),
        awaiting=sum(x.awaiting for x in lines),
        overdue=sum(x.overdue for x in lines),
    )
    return lines, totals


_STATUS_FIELD = {rules.OPEN: "open", rules.IN_PROGRESS: "in_progress", rules.COMPLETED: "awaiting"}


def bucket_counts(groups: Iterable[Group]) -> list[BucketCount]:
    """Every ageing bucket in order (empty ones as 0), from the same groups."""
    found = dict.fromkeys(rules.AGEING_BUCKETS, 0)
    for _team, _name, _status, bucket, n in groups:
        found[bucket] += n
    largest = max(found.values())
    return [
        BucketCount(key=b, label=rules.AGEING_LABELS[b], count=n, share=n / largest if largest else 0.0)
        for b, n in found.items()
    ]


def closures(
    raised: dict[int, tuple[int, int]], histograms: dict[int, dict[int, int]], *, today: date
) -> list[Closure]:
    """One Closure per window (rules.WINDOWS) from {months: (raised, of those closed)} and
    {months: {days to close: how many closed in the window}}."""
    result = []
    for months in rules.WINDOWS:
        count, closed = raised.get(months, (0, 0))
        histogram = histograms.get(months, {})
        result.append(
            Closure(
                months=months,
                since=months_before(today, months),
                raised=count,
                closed=closed,
                closed_in_window=sum(histogram.values()),
                median_days=rules.median(histogram),
            )
        )
    return result


# --- The queries ------------------------------------------------------------------------------------


def dashboard_figures(
    session: Session,
    *,
    service_area_id: int | None,
    flt: ListFilter,
    today: date,
    zone: str,
    thresholds: rules.Thresholds,
) -> Dashboard:
    """Every figure on the dashboard for one area (None: all areas), narrowed by the filter's team, theme,
    priority and cycle; `today` is the local date that "overdue" is counted from."""
    base = dashboard_filter(flt, service_area_id=service_area_id)

    def where(**changes: Any) -> list[Any]:
        return selectors.filter_conditions(figure_filter(base, **changes), today=today, zone=zone)

    # Outstanding by team, status and ageing bucket: the by-team table, the buckets and the headline counts. The
    # team names are joined to the few groups, not to every item.
    bucket = selectors.bucket_expression(today).label("bucket")
    grouped = (
        select(Recommendation.team_id, Recommendation.status, bucket, func.count().label("n"))
        .where(*where(status=OUTSTANDING))
        .group_by(Recommendation.team_id, Recommendation.status, bucket)
    ).subquery()
    groups: list[Group] = [
        (r.team_id, r.name, r.status, r.bucket, r.n)
        for r in session.execute(
            select(grouped.c.team_id, Team.name, grouped.c.status, grouped.c.bucket, grouped.c.n).outerjoin(
                Team, Team.id == grouped.c.team_id
            )
        )
    ]
    teams, totals = team_lines(groups)

    def oldest(status: str, *order: Any) -> list[Recommendation]:
        stmt = select(Recommendation).where(*where(status=status)).order_by(*order, Recommendation.id)
        return list(session.execute(stmt.limit(SHORT_LIST)).scalars())

    overdue = oldest(OVERDUE, Recommendation.due_date) if totals.overdue else []
    awaiting = oldest(AWAITING, Recommendation.completed_at.asc().nulls_first()) if totals.awaiting else []
    rows = selectors.recommendation_rows(session, items=overdue + awaiting, today=today, thresholds=thresholds)

    return Dashboard(
        teams=teams,
        totals=totals,
        buckets=bucket_counts(groups),
        oldest_overdue=rows[: len(overdue)],
        oldest_awaiting=rows[len(overdue) :],
        closure=_closure(session, where, today=today, zone=zone),
    )


def _closure(session: Session, where: Any, *, today: date, zone: str) -> list[Closure]:
    """Raised (and of those closed) in each window in one pass over the widest window; the days-to-close
    histogram of those closed in each window in another."""
    widest = max(rules.WINDOWS)
    starts = {m: window_start(today, m, zone) for m in rules.WINDOWS}
    closed = Recommendation.status == rules.CLOSED

    def tally(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    raised_columns = [tally(Recommendation.raised_at >= starts[m]) for m in rules.WINDOWS]
    closed_columns = [tally((Recommendation.raised_at >= starts[m]) & closed) for m in rules.WINDOWS]
    line = session.execute(select(*raised_columns, *closed_columns).where(*where(raised_within=widest))).one()
    raised = {m: (int(line[i]), int(line[len(rules.WINDOWS) + i])) for i, m in enumerate(rules.WINDOWS)}

    in_window = [tally(Recommendation.closed_at >= starts[m]) for m in rules.WINDOWS]
    histograms: dict[int, dict[int, int]] = {m: {} for m in rules.WINDOWS}
    stmt = (
        select(Recommendation.days_to_close, *in_window)
        .where(*where(closed_within=widest))
        .group_by(Recommendation.days_to_close)
    )
    for days, *per_window in session.execute(stmt):
        for m, n in zip(rules.WINDOWS, per_window, strict=True):
            if n and days is not None:
                histograms[m][int(days)] = int(n)
    return closures(raised, histograms, today=today)
