"""The reports page's Moderation and Recommendations sections (issue 8), for one ReportFilter.

Moderation: agreement between auditors' and moderators' overall grades over the graded moderation rounds of the
selection's audits (`filters.selected_audits`: completed in the period, of the filter's cycle, template, area,
team and case type). The pairs come from `moderation.agreement.service.agreement_pairs`, the statistics from the
pure `moderation.agreement` (exact agreement, quadratically weighted kappa and its 95% interval): the same figures
as the moderation agreement page, for this selection. Every graded round counts, as on that page (an audit returned
and moderated again gives a pair per round).

Recommendations: raised in the period, closed in the period, outstanding now, overdue now (counted from `today`,
the local date), the median days to close of those closed in the period, and the top themes of those raised in
the period. They are narrowed by the filter's cycle, service area and team (the columns a recommendation carries);
a recommendation has no template or case type, so those filters do not narrow them. The period is the filter's
local dates (`app.dates.local_day_start`). Each figure is counted with `recommendations.selectors.filter_conditions`
of the very ListFilter its link gives the recommendations list (`dashboard.list_url`), so a figure and the list
behind it agree; "closed in the period" has no list filter, so it has no link. Scope follows the report filter
(a head of service: their own area; the QA lead and viewers: every area); the links are offered only to those who
may see that list (`may_follow_recommendations`: never to viewers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, true
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.audits.models import Audit
from app.dates import local_day_start
from app.moderation.agreement.kappa import METHOD, Agreement, agreement_of
from app.moderation.agreement.service import GRADED, OVERALL, agreement_pairs, is_grade
from app.moderation.models import Moderation
from app.recommendations import rules, scope, selectors
from app.recommendations.dashboard.service import figure_filter, list_url
from app.recommendations.models import Recommendation, RecommendationTheme, Theme
from app.recommendations.selectors import OUTSTANDING, OVERDUE, ListFilter
from app.reports.filters import ReportFilter, selected_audits
from app.reports.stats import DEFAULT_MIN_N

TOO_FEW = "too few to judge"
TOP_THEMES = 5
# How the moderation agreement page explains kappa (templates/moderation/agreement.html).
KAPPA_MEANING = (
    "Kappa is 1 when the two always agree and 0 when they agree no more than chance would; quadratic "
    "weights count a one-grade difference as a near miss and Outstanding against Inadequate as complete "
    "disagreement. With few pairs the interval is wide: read it as a rough guide."
)


# --- Moderation ---------------------------------------------------------------------------------------------


def _no_pairs() -> Agreement:
    return agreement_of([])


@dataclass(frozen=True)
class ModerationFigures:
    """Agreement on the overall grade over the graded moderation rounds of the selection's audits."""

    agreement: Agreement = field(default_factory=_no_pairs)
    rounds: int = 0  # graded moderation rounds of the selection's audits (some may give no overall pair)
    min_n: int = DEFAULT_MIN_N
    method: str = METHOD

    @property
    def n(self) -> int:
        return self.agreement.n

    @property
    def meaning(self) -> str:
        return KAPPA_MEANING

    @property
    def too_few(self) -> bool:
        """Fewer pairs than the report's minimum: the figures are shown but not to be judged on."""
        return self.n < self.min_n

    @property
    def exact_text(self) -> str:
        a = self.agreement
        return "Not available" if a.exact_agreement is None else f"{a.exact_agreement * 100:.0f}%"

    @property
    def kappa_text(self) -> str:
        kappa = self.agreement.weighted_kappa
        return "Undefined" if kappa is None else f"{kappa:.2f}"

    @property
    def interval_text(self) -> str:
        interval = self.agreement.interval
        return "Not available" if interval is None else f"{interval[0]:.2f} to {interval[1]:.2f}"

    @property
    def note(self) -> str:
        """Too few to judge, and/or why kappa is missing (the agreement module's words)."""
        notes = [TOO_FEW] if self.n and self.too_few else []
        if self.n and self.agreement.note:
            notes.append(self.agreement.note)
        return "; ".join(notes)


def moderation_figures(session: Session, flt: ReportFilter, zone: str, *, min_n: int) -> ModerationFigures:
    """Agreement on the overall grade for the moderated audits of the filter's selection.

    Rounds that kept the auditor's overall grade as the moderator saw it (every round graded since snapshots
    exist) are counted by the database, grouped by the two grades: a year holds thousands of rounds. Only older
    rounds without that snapshot go through `agreement_pairs`, which reads the audit's answers."""
    graded = and_(Moderation.audit_id == Audit.id, Moderation.status.in_(GRADED))
    grouped = session.execute(
        selected_audits(flt, zone, Moderation.auditor_overall_grade, Moderation.overall_grade, func.count())
        .join(Moderation, graded)
        .group_by(Moderation.auditor_overall_grade, Moderation.overall_grade)
    ).all()
    rounds = sum(n for *_, n in grouped)
    found = [(mine, theirs) for mine, theirs, n in grouped if is_grade(mine) and is_grade(theirs) for _ in range(n)]
    if any(mine is None for mine, _, _ in grouped):  # rounds graded before the auditor's grade was kept with them
        older = (
            selected_audits(flt, zone, Moderation.audit_id)
            .join(Moderation, graded)
            .where(Moderation.auditor_overall_grade.is_(None))
        )
        pairs, _ = agreement_pairs(session, audit_ids=older)
        unsnapshotted = _unsnapshotted_rounds(session, older)
        found += [
            (p.auditor_grade, p.moderator_grade)
            for p in pairs
            if p.section_key == OVERALL and p.round in unsnapshotted.get(p.audit_id, set())
        ]
    return ModerationFigures(agreement=agreement_of(found), rounds=rounds, min_n=min_n)


def _unsnapshotted_rounds(session: Session, older: Any) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for audit_id, number in session.execute(
        select(Moderation.audit_id, Moderation.round).where(
            Moderation.audit_id.in_(older), Moderation.auditor_overall_grade.is_(None), Moderation.status.in_(GRADED)
        )
    ):
        found.setdefault(audit_id, set()).add(number)
    return found


# --- Recommendations ----------------------------------------------------------------------------------------

RAISED, CLOSED, OUTSTANDING_NOW, OVERDUE_NOW = "raised", "closed", "outstanding", "overdue"


@dataclass(frozen=True)
class ThemeCount:
    theme_id: int
    name: str
    count: int  # recommendations raised in the period with this theme
    url: str  # the list of them


@dataclass(frozen=True)
class RecommendationFigures:
    raised: int = 0  # raised in the period
    closed: int = 0  # closed in the period (whenever raised)
    outstanding: int = 0  # not yet closed, now
    overdue: int = 0  # outstanding and past the due date, now
    median_days: float | None = None  # to close, of those closed in the period
    themes: list[ThemeCount] = field(default_factory=list)  # the most common themes of those raised, at most 5
    urls: dict[str, str] = field(default_factory=dict)  # figure (RAISED, OUTSTANDING_NOW, ...) -> the list behind it
    service_area_id: int | None = None  # the area counted (None: every area)
    unfiltered: tuple[str, ...] = ()  # report filters that do not narrow recommendations ("template", "case type")

    def linked_for(self, user: User | None) -> bool:
        """Whether `user` may follow the figures to the recommendations list (the page shows bare numbers if not)."""
        return user is not None and may_follow_recommendations(user, service_area_id=self.service_area_id)

    @property
    def median_text(self) -> str:
        if self.median_days is None:
            return "Not available: none closed in the period"
        days = f"{self.median_days:.0f}" if self.median_days == int(self.median_days) else f"{self.median_days:.1f}"
        return f"{days} day{'' if days == '1' else 's'}"


def may_follow_recommendations(user: User, *, service_area_id: int | None) -> bool:
    """Whether the recommendations list shows `user` every item a report figure counts: the QA lead sees every
    recommendation; a head of service sees their own area's (so only when the figures are of that area); anyone
    else (a viewer) may not open the list at all."""
    return user.has_role(Role.QA_LEAD) or scope.is_head_of_service_for(user, service_area_id)


def recommendation_filter(flt: ReportFilter) -> ListFilter:
    """The recommendations list's filter for a report filter: its cycle, service area and team."""
    return ListFilter(service_area_id=flt.service_area_id, team_id=flt.team_id, cycle_id=flt.cycle_id)


def _period(column: Any, flt: ReportFilter, zone: str) -> list[Any]:
    conds = []
    if flt.date_from is not None:
        conds.append(column >= local_day_start(flt.date_from, zone))
    if flt.date_to is not None:
        conds.append(column < local_day_start(flt.date_to + timedelta(days=1), zone))
    return conds


def _tally(conditions: list[Any]) -> Any:
    return func.coalesce(func.sum(case((and_(true(), *conditions), 1), else_=0)), 0)


def recommendation_figures(session: Session, flt: ReportFilter, zone: str, *, today: date) -> RecommendationFigures:
    """The selection's recommendation figures; `today` is the local date "overdue" is counted from. Three queries:
    the four counts in one pass, the days-to-close histogram, the top themes."""
    base = recommendation_filter(flt)
    raised_in = {"raised_from": flt.date_from, "raised_to": flt.date_to}

    def where(**changes: Any) -> list[Any]:
        return selectors.filter_conditions(figure_filter(base, **changes), today=today, zone=zone)

    closed_in = [*where(status=rules.CLOSED), *_period(Recommendation.closed_at, flt, zone)]
    raised, closed, outstanding, overdue = (
        int(n)
        for n in session.execute(
            select(
                _tally(where(**raised_in)),
                _tally(closed_in),
                _tally(where(status=OUTSTANDING)),
                _tally(where(status=OVERDUE)),
            ).where(*where())
        ).one()
    )

    histogram = {
        int(days): int(n)
        for days, n in session.execute(
            select(Recommendation.days_to_close, func.count()).where(*closed_in).group_by(Recommendation.days_to_close)
        )
        if days is not None
    }

    count = func.count().label("n")
    theme_rows = session.execute(
        select(Theme.id, Theme.name, count)
        .join(RecommendationTheme, RecommendationTheme.theme_id == Theme.id)
        .join(Recommendation, Recommendation.id == RecommendationTheme.recommendation_id)
        .where(*where(**raised_in))
        .group_by(Theme.id, Theme.name)
        .order_by(count.desc(), func.lower(Theme.name), Theme.id)
        .limit(TOP_THEMES)
    ).all()
    themes = [
        ThemeCount(theme_id=i, name=name, count=int(n), url=list_url(base, theme_id=i, **raised_in))
        for i, name, n in theme_rows
    ]

    urls = {
        RAISED: list_url(base, **raised_in),
        OUTSTANDING_NOW: list_url(base, status=OUTSTANDING),
        OVERDUE_NOW: list_url(base, status=OVERDUE),
    }
    unfiltered = tuple(name for name, value in (("template", flt.template_key), ("case type", flt.case_type)) if value)
    return RecommendationFigures(
        raised=raised,
        closed=closed,
        outstanding=outstanding,
        overdue=overdue,
        median_days=rules.median(histogram),
        themes=themes,
        urls=urls,
        service_area_id=flt.service_area_id,
        unfiltered=unfiltered,
    )
