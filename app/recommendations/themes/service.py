"""Learning themes: the managed list (the QA lead adds, retires and restores themes; retired ones stay on past
recommendations but are not offered for new ones), and recommendations by theme over time.

Each figure of the themes table is counted with the conditions its link gives the list page (`selectors.
filter_conditions` of the same ListFilter, as the dashboard does), so a figure and the list behind it agree.
Months are local calendar months: their boundaries are worked out here, in the configured time zone, and the
database sorts rows into them with one CASE over the UTC column (portable SQL, one pass over the period's rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.accounts.models import User
from app.audit_trail.service import audit_record
from app.dates import local_day_start, months_before
from app.db import valid_row_id
from app.errors import ValidationFailed
from app.recommendations import rules, scope, selectors
from app.recommendations.dashboard.service import list_url
from app.recommendations.models import Recommendation, RecommendationTheme, Theme
from app.recommendations.selectors import OUTSTANDING, ListFilter
from app.sampling.models import Cycle

MONTH_CHOICES = (6, 12, 24)
DEFAULT_MONTHS = 12
NAME_MAX_LENGTH = 80
AUDITS_SHOWN = 10  # audit numbers listed per theme and cycle; the rest are counted
NO_CYCLE = "Not part of a cycle"


# --- The managed list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeUse:
    theme: Theme
    recommendations: int  # how many recommendations carry it (ever)


def theme_get(session: Session, *, theme_id: int | None) -> Theme | None:
    return session.get(Theme, theme_id) if valid_row_id(theme_id) else None


def theme_uses(session: Session) -> list[ThemeUse]:
    """Every theme, active ones first, by name, with how many recommendations carry it."""
    counts = dict(
        session.execute(select(RecommendationTheme.theme_id, func.count()).group_by(RecommendationTheme.theme_id)).all()
    )
    themes = session.execute(select(Theme).order_by(Theme.active.desc(), func.lower(Theme.name), Theme.id)).scalars()
    return [ThemeUse(theme=t, recommendations=counts.get(t.id, 0)) for t in themes]


def clean_name(value: Any) -> str:
    """A theme name as stored: NULs dropped, runs of white space folded to one space."""
    return " ".join(value.replace("\x00", "").split()) if isinstance(value, str) else ""


def name_problem(name: str, existing: dict[str, bool]) -> str | None:
    """Why `name` (cleaned) cannot be added beside the `existing` themes ({name: active}), or None."""
    if not name:
        return "Enter a name for the theme"
    if len(name) > NAME_MAX_LENGTH:
        return f"The name must be {NAME_MAX_LENGTH} characters or fewer"
    same = next((e for e in existing if e.casefold() == name.casefold()), None)
    if same is not None:
        retired = "" if existing[same] else " (retired: restore it instead)"
        return f"There is already a theme called “{same}”{retired}"
    return None


def theme_add(session: Session, *, actor: User, name: Any) -> Theme:
    """Add a theme to the managed list (QA lead): a name, unique ignoring case, of 80 characters or fewer."""
    cleaned = clean_name(name)
    existing: dict[str, bool] = dict(session.execute(select(Theme.name, Theme.active)).all())
    if problem := name_problem(cleaned, existing):
        raise ValidationFailed({"name": problem})
    theme = Theme(name=cleaned)
    try:
        with session.begin_nested():  # someone adding the same name at this moment: their row wins
            session.add(theme)
            session.flush()
    except IntegrityError:
        raise ValidationFailed({"name": f"There is already a theme called “{cleaned}”"}) from None
    audit_record(
        session,
        actor=actor,
        action="theme.add",
        summary=f"Added the learning theme “{cleaned}”",
        entity_type="recommendation_theme",
        entity_id=theme.id,
        after={"name": cleaned, "active": True},
    )
    return theme


def theme_set_active(session: Session, *, actor: User, theme: Theme, active: bool) -> Theme:
    """Retire a theme (kept on past recommendations, no longer offered) or restore it; asking for the state it is
    already in changes nothing."""
    if theme.active == active:
        return theme
    theme.active = active
    session.add(theme)
    session.flush()
    verb = "restore" if active else "retire"
    audit_record(
        session,
        actor=actor,
        action=f"theme.{verb}",
        summary=f"{verb.capitalize()}d the learning theme “{theme.name}”",
        entity_type="recommendation_theme",
        entity_id=theme.id,
        before={"active": not active},
        after={"active": active},
    )
    return theme


# --- Recommendations by theme over time -----------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @property
    def abbr(self) -> str:
        return self.first.strftime("%b")

    @property
    def long_label(self) -> str:
        return self.first.strftime("%B %Y")


def last_months(today: date, months: int) -> list[Month]:
    """The last `months` calendar months, oldest first, ending with today's."""
    first = today.replace(day=1)
    found = []
    for back in range(months - 1, -1, -1):
        start = months_before(first, back)
        found.append(Month(first=start, last=months_before(first, back - 1) - timedelta(days=1)))
    return found


def month_index(column: Any, starts: list[datetime]) -> Any:
    """A CASE giving the index of the month a timestamp falls in (`starts` ascending; rows before the first are
    left out by the WHERE)."""
    return case(*[(column >= start, i) for i, start in reversed(list(enumerate(starts)))], else_=-1)


@dataclass(frozen=True)
class Source:
    """Where a theme's recommendations came from: one cycle (None: audits outside any cycle)."""

    cycle_id: int | None
    title: str
    count: int
    audit_ids: list[int]  # the newest AUDITS_SHOWN
    audits: int  # how many audits in all (thematic findings have none)

    @property
    def more_audits(self) -> int:
        return self.audits - len(self.audit_ids)


@dataclass(frozen=True)
class Cell:
    count: int
    url: str


@dataclass(frozen=True)
class ThemeLine:
    theme: Theme
    cells: list[Cell]  # one per month, oldest first
    total: Cell
    outstanding: Cell
    sources: list[Source]
    share: float  # total, as a share of the largest theme's (0 to 1): the chart's bar


@dataclass(frozen=True)
class ThemeReport:
    months: list[Month]
    lines: list[ThemeLine]  # most recommendations first
    quiet: list[str]  # active themes with none in the period


def report_filter(*, months: list[Month], service_area_id: int | None, cycle_id: int | None) -> ListFilter:
    """The list filter behind every figure: raised in the period, in the area and cycle."""
    return ListFilter(
        service_area_id=service_area_id, cycle_id=cycle_id, raised_from=months[0].first, raised_to=months[-1].last
    )


Key = tuple[int, int | None]  # (theme id, cycle id)


def assemble(
    counts: list[tuple[int, int | None, int, int, int]],
    *,
    themes: list[Theme],
    months: list[Month],
    base: ListFilter,
    audits: dict[Key, tuple[list[int], int]],
    titles: dict[int, str],
) -> tuple[list[ThemeLine], list[str]]:
    """Lines by theme (most first, then by name) from (theme id, cycle id, month index, count, outstanding) rows,
    with the audits ((theme, cycle) -> (the numbers shown, how many in all)) and cycle titles; and the active
    themes with nothing in the period."""
    per_month: dict[int, list[int]] = {}
    still_open: dict[int, int] = {}
    per_cycle: dict[int, dict[int | None, int]] = {}
    for theme_id, cycle_id, index, n, outstanding in counts:
        if not 0 <= index < len(months):
            continue
        per_month.setdefault(theme_id, [0] * len(months))[index] += n
        still_open[theme_id] = still_open.get(theme_id, 0) + outstanding
        cycles = per_cycle.setdefault(theme_id, {})
        cycles[cycle_id] = cycles.get(cycle_id, 0) + n
    largest = max((sum(t) for t in per_month.values()), default=0)
    lines = []
    for theme in themes:
        assert theme.id is not None
        tally = per_month.get(theme.id)
        if not tally:
            continue
        sources = []
        for c, n in per_cycle[theme.id].items():
            shown, in_all = audits.get((theme.id, c), ([], 0))
            sources.append(
                Source(
                    cycle_id=c,
                    title=titles.get(c, "") if c is not None else NO_CYCLE,
                    count=n,
                    audit_ids=shown,
                    audits=in_all,
                )
            )
        sources.sort(key=lambda s: (-s.count, s.cycle_id is None, s.title.casefold()))
        lines.append(
            ThemeLine(
                theme=theme,
                cells=[
                    Cell(n, list_url(base, theme_id=theme.id, raised_from=m.first, raised_to=m.last))
                    for n, m in zip(tally, months, strict=True)
                ],
                total=Cell(sum(tally), list_url(base, theme_id=theme.id)),
                outstanding=Cell(still_open[theme.id], list_url(base, theme_id=theme.id, status=OUTSTANDING)),
                sources=sources,
                share=sum(tally) / largest,
            )
        )
    lines.sort(key=lambda line: (-line.total.count, line.theme.name.casefold()))
    quiet = sorted((t.name for t in themes if t.active and t.id not in per_month), key=str.casefold)
    return lines, quiet


def themes_report(
    session: Session,
    *,
    user: User,
    months: int,
    service_area_id: int | None,
    cycle_id: int | None,
    today: date,
    zone: str,
) -> ThemeReport:
    """Recommendations raised in the last `months` local months by theme and month, within what `user` may see
    (narrowed to an area and a cycle when given), with the audits and cycles they came from. Two passes over the
    rows whatever their number: one grouped count, and the audit numbers."""
    columns = last_months(today, months)
    base = report_filter(months=columns, service_area_id=service_area_id, cycle_id=cycle_id)
    where = [scope.visible_condition(session, user=user), *selectors.filter_conditions(base, today=today, zone=zone)]
    themed = (
        select()
        .select_from(Recommendation)
        .join(RecommendationTheme, RecommendationTheme.recommendation_id == Recommendation.id)
        .where(*where)
    )
    theme_id, cycle = RecommendationTheme.theme_id, Recommendation.cycle_id
    index = month_index(Recommendation.raised_at, [local_day_start(m.first, zone) for m in columns])
    outstanding = func.sum(case((Recommendation.status.in_(rules.OUTSTANDING), 1), else_=0))
    counts = [
        (t, c, int(i), int(n), int(o))
        for t, c, i, n, o in session.execute(
            themed.add_columns(theme_id, cycle, index.label("month"), func.count(), outstanding).group_by(
                theme_id, cycle, index
            )
        )
    ]
    cycle_ids = {c for _, c, *_ in counts if c is not None}
    titles = (
        dict(session.execute(select(Cycle.id, Cycle.title).where(Cycle.id.in_(cycle_ids))).all()) if cycle_ids else {}
    )
    themes = list(session.execute(select(Theme).order_by(func.lower(Theme.name))).scalars())
    lines, quiet = assemble(
        counts,
        themes=themes,
        months=columns,
        base=base,
        titles=titles,
        audits=_audits(session, themed) if counts else {},
    )
    return ThemeReport(months=columns, lines=lines, quiet=quiet)


def _audits(session: Session, themed: Any) -> dict[Key, tuple[list[int], int]]:
    """Per theme and cycle: the newest AUDITS_SHOWN audit numbers and how many audits in all (window functions
    keep the answer short however many there are)."""
    audit = Recommendation.audit_id
    pairs = (
        themed.add_columns(
            RecommendationTheme.theme_id.label("theme_id"),
            Recommendation.cycle_id.label("cycle_id"),
            audit.label("audit_id"),
        )
        .where(audit.is_not(None))
        .distinct()
        .subquery()
    )
    group = (pairs.c.theme_id, pairs.c.cycle_id)
    ranked = select(
        pairs,
        func.row_number().over(partition_by=group, order_by=pairs.c.audit_id.desc()).label("rank"),
        func.count().over(partition_by=group).label("audits"),
    ).subquery()
    found: dict[Key, tuple[list[int], int]] = {}
    for t, c, a, n in session.execute(
        select(ranked.c.theme_id, ranked.c.cycle_id, ranked.c.audit_id, ranked.c.audits)
        .where(ranked.c.rank <= AUDITS_SHOWN)
        .order_by(ranked.c.audit_id.desc())
    ):
        found.setdefault((t, c), ([], int(n)))[0].append(a)
    return found


# --- The page's filter ---------------------------------------------------------------------------------


def months_from_query(value: str | None) -> tuple[int, str | None]:
    """The period asked for, or the default and why the value was not used."""
    text = (value or "").strip()
    if not text:
        return DEFAULT_MONTHS, None
    if text in {str(m) for m in MONTH_CHOICES}:
        return int(text), None
    return DEFAULT_MONTHS, "Choose 6, 12 or 24 months"
