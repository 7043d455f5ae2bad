"""The reports page's content (issue 8): grades, moderation changes, compliance with intervals, the monthly trend and
the targets, for one ReportFilter.

`build_report` runs the figures' queries (app.reports.figures) and loads the targets; `assemble` is pure: it turns
those figures into rates (app.reports.stats), verdicts and charts (app.reports.charts), so it is tested without a
database. `filter_choices` lists what the filters form offers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import GRADE_LABELS, Grade, TemplateDefinition
from app.audit_templates.selectors import template_latest_versions
from app.audit_templates.service import template_definition
from app.cases.facts import CaseType
from app.config import Settings
from app.reports import charts
from app.reports.charts import Bar, Chart, Point, Segment, Series, StackRow
from app.reports.figures import (
    GRADES,
    ComplianceReport,
    Counts,
    GradeCounts,
    GroupGrades,
    ModerationChanges,
    TeamCompliance,
    Trend,
    compliance,
    compliance_rate,
    grade_distribution,
    moderation_changes,
    monthly_coded_audits,
    monthly_trend,
    team_compliance,
)
from app.reports.filters import ReportFilter
from app.reports.impact import ImpactReport, impact_report
from app.reports.sections import (
    ModerationFigures,
    RecommendationFigures,
    moderation_figures,
    recommendation_figures,
)
from app.reports.stats import Difference, Rate, Verdict, compare, ranked, rate
from app.reports.targets import Target, TargetsError, load_targets, name_question
from app.sampling.models import Cycle

log = logging.getLogger("caseaudit.reports")

TOO_FEW = "too few to judge"
GOOD_OR_BETTER = (Grade.OUTSTANDING.value, Grade.GOOD.value)
GRADE_COLOURS = {
    Grade.OUTSTANDING.value: charts.GREEN,
    Grade.GOOD.value: charts.BLUE,
    Grade.REQUIRES_IMPROVEMENT.value: charts.YELLOW,
    Grade.INADEQUATE.value: charts.RED,
}
GRADE_KEYS = [(g, GRADE_LABELS[Grade(g)], GRADE_COLOURS[g]) for g in GRADES]
VERDICT_TEXT = {Verdict.MET: "Met", Verdict.NOT_MET: "Not met", Verdict.CANNOT_TELL: "Cannot tell"}


def rate_note(r: Rate) -> str:
    """What the page says beside a rate: too few to judge, and/or the frame it was corrected for."""
    notes = []
    if r.too_few:
        notes.append(TOO_FEW)
    if r.corrected:
        notes.append(f"corrected for a frame of {r.population:,}")
    return "; ".join(notes)


def percent(value: float | None) -> str:
    return charts.format_value(value, percent=True)


def interval_text(r: Rate) -> str:
    if r.interval is None:
        return ""
    return f"{percent(r.interval.low)}{charts.EN_DASH}{percent(r.interval.high)}"


# --- What the page shows ------------------------------------------------------------------------------------


class RateText:
    """What the page shows for a row's `rate`: its note, the rate and its interval as text."""

    rate: Rate

    @property
    def note(self) -> str:
        return rate_note(self.rate)

    @property
    def rate_text(self) -> str:
        return percent(self.rate.value)

    @property
    def interval_text(self) -> str:
        return interval_text(self.rate)


@dataclass(frozen=True)
class RateRow(RateText):
    """One question or section: its answers and their rate."""

    template_key: str
    label: str
    counts: Counts
    rate: Rate
    section_title: str = ""
    question_key: str = ""  # a question's key ("" for a section): for the link to its audits


@dataclass(frozen=True)
class TrendRow:
    label: str  # "Mar 2026"
    audits: int
    graded: int
    good_or_better: int
    rate: Rate

    @property
    def note(self) -> str:
        return rate_note(self.rate) if self.graded else "no graded audits"


@dataclass(frozen=True)
class TargetRow:
    target: Target
    measured: Rate
    verdict: Verdict
    measure: str  # what was measured, in words
    question: str = ""  # the template question it is measured from, in words ("" for a grade target)
    problem: str = ""  # why the targets file's question cannot be measured (app.reports.targets.target_problem)

    @property
    def verdict_text(self) -> str:
        return VERDICT_TEXT[self.verdict]

    @property
    def note(self) -> str:
        if self.problem:
            return f"check the targets file: {self.problem}"
        return rate_note(self.measured) if self.measured.n else "nothing to measure in this selection"


DIFFERENCE_TEXT = {
    Difference.HIGHER: "Higher",
    Difference.LOWER: "Lower",
    Difference.NO_CLEAR_DIFFERENCE: "No clear difference",
    Difference.CANNOT_TELL: "Cannot tell",
}


@dataclass(frozen=True)
class TeamRow(RateText):
    """One team's compliance over all the compliance questions, its rank among the teams with enough answers
    (None: too few to judge, never ranked) and how it compares with the other teams together."""

    id: int | None
    name: str
    counts: Counts
    rate: Rate
    rank: int | None
    against_rest: Difference

    @property
    def against_rest_text(self) -> str:
        return DIFFERENCE_TEXT[self.against_rest]


def team_rows(teams: list[TeamCompliance], *, min_n: int) -> tuple[TeamRow, ...]:
    """Rank the teams' compliance (those with too few answers are left unranked) and compare each with the other
    teams together: a difference is claimed only when the two 95% intervals do not overlap. A team is a part of
    any sample, so no finite population correction is applied."""
    total = sum((t.counts for t in teams), Counts())
    rates = {t.name: compliance_rate(t.counts, frame=None, sampled=None, min_n=min_n) for t in teams}
    ranks = {name: i for i, (name, _) in enumerate(ranked(rates), start=1)}
    rows = []
    for t in teams:
        rest = total - t.counts
        rows.append(
            TeamRow(
                id=t.id,
                name=t.name,
                counts=t.counts,
                rate=rates[t.name],
                rank=ranks.get(t.name),
                against_rest=compare(rates[t.name], compliance_rate(rest, frame=None, sampled=None, min_n=min_n)),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.name.casefold())))


@dataclass(frozen=True)
class Report:
    flt: ReportFilter
    audits: int
    min_n: int
    grades: GradeCounts
    grade_chart: Chart
    grade_chart_by: str  # "team" or "service area"
    moderation: ModerationChanges
    frame_size: int | None
    questions: list[RateRow]
    sections: list[RateRow]
    section_chart: Chart
    trend: list[TrendRow]
    trend_chart: Chart
    audits_chart: Chart
    targets: list[TargetRow]
    targets_problem: bool = False  # the targets file could not be used (the log says why)
    agreement: ModerationFigures = field(
        default_factory=ModerationFigures
    )  # moderators' agreement with auditors (app.reports.sections)
    recommendations: RecommendationFigures = field(
        default_factory=RecommendationFigures
    )  # raised, closed, outstanding... (sections)
    impact: ImpactReport | None = None  # cases audited more than once (app.reports.impact)
    teams: tuple[TeamRow, ...] = ()  # compliance by team, ranked, each against the other teams

    @property
    def empty(self) -> bool:
        return self.audits == 0


# --- Assembly (pure) ----------------------------------------------------------------------------------------


def _grade_chart(groups: list[GroupGrades], by: str) -> Chart:
    rows = [StackRow(label=g.name, segments=[Segment(k, n) for k, n in g.grades.counts.items()]) for g in groups]
    return charts.stacked_bar_chart(
        f"Grade mix by {by}",
        f"The share of graded audits with each final grade, for each {by}.",
        rows,
        GRADE_KEYS,
        label_heading=by.capitalize(),
        total_heading="Graded audits",
        id=f"grade-mix-by-{by.replace(' ', '-')}",
    )


def _section_chart(sections: list[RateRow]) -> Chart:
    bars = [
        Bar(
            label=f"{s.label} ({s.template_key})",
            value=None if s.rate.too_few else s.rate.value,
            low=None if s.rate.too_few or not s.rate.interval else s.rate.interval.low,
            high=None if s.rate.too_few or not s.rate.interval else s.rate.interval.high,
            note=TOO_FEW if s.rate.too_few else None,
        )
        for s in sections
    ]
    return charts.bar_chart(
        "Compliance by section",
        "The share of yes answers among yes and no answers for each section, with its 95% "
        "interval; sections with too few answers are not drawn.",
        bars,
        percent=True,
        label_heading="Section",
        value_heading="Compliance (95% interval)",
        id="compliance-sections",
    )


def _trend(trend: Trend, *, frame: int | None, min_n: int) -> list[TrendRow]:
    rows = []
    for m in trend.months:
        good = sum(m.grades.counts[g] for g in GOOD_OR_BETTER)
        r = rate(good, m.grades.graded - good, min_n=min_n)
        rows.append(
            TrendRow(
                label=m.month.first.strftime("%b %Y"),
                audits=m.audits,
                graded=m.grades.graded,
                good_or_better=good,
                rate=r,
            )
        )
    return rows


def _trend_charts(rows: list[TrendRow]) -> tuple[Chart, Chart]:
    points = [
        Point(
            x_label=r.label,
            value=r.rate.value,
            n=r.graded,
            low=r.rate.interval.low if r.rate.interval else None,
            high=r.rate.interval.high if r.rate.interval else None,
        )
        for r in rows
    ]
    share = charts.line_chart(
        "Graded audits Good or better, by month",
        "The share of each month's graded audits graded Good or Outstanding, with its 95% "
        "interval, and the number of graded audits under each month.",
        [Series("Good or better", points)],
        n_heading="Graded audits",
        id="trend-good",
    )
    counts = charts.bar_chart(
        "Completed audits by month",
        "How many audits were completed in each month.",
        [Bar(label=r.label, value=r.audits) for r in rows],
        label_heading="Month",
        value_heading="Completed audits",
        id="trend-audits",
    )
    return share, counts


def _targets(
    targets: list[Target],
    report: ComplianceReport,
    grades: GradeCounts,
    *,
    min_n: int,
    templates: Mapping[str, TemplateDefinition] | None,
) -> list[TargetRow]:
    """Each target's row; a question target names its question (`name_question`), answered in the selection or not."""
    by_question = {(q.template_key, q.question_key): q for q in report.questions}
    found = []
    for t in targets:
        question = problem = ""
        if t.question:
            q = by_question.get((t.template_key, t.question_key))
            measured = compliance_rate(
                q.counts if q else Counts(), frame=report.frame_size, sampled=report.audits, min_n=min_n
            )
            named = name_question(t, templates, selection_label=q.label if q else None)
            measure = (
                f"Yes answers to “{named.label}” ({t.template_key})"
                if named.label
                else f"Question {t.question_key} of {t.template_key}"
            )
            question, problem = named.text, named.problem
        else:
            assert t.grade is not None
            count, graded = grades.overall.counts[t.grade], grades.overall.graded
            measured = rate(count, graded - count, population=report.frame_size, sampled=report.audits, min_n=min_n)
            measure = f"Graded audits graded {GRADE_LABELS[Grade(t.grade)]}"
        found.append(
            TargetRow(
                target=t,
                measured=measured,
                verdict=t.judge(measured),
                measure=measure,
                question=question,
                problem=problem,
            )
        )
    return found


def assemble(
    flt: ReportFilter,
    *,
    grades: GradeCounts,
    moderation: ModerationChanges,
    report: ComplianceReport,
    trend: Trend,
    targets: list[Target],
    min_n: int,
    templates: Mapping[str, TemplateDefinition] | None = None,
) -> Report:
    """The page's content from the figures: no database. `templates`: the newest version of each published
    template, by key, which the targets' questions are named from."""
    frame = report.frame_size
    questions = [
        RateRow(
            template_key=q.template_key,
            label=q.label,
            section_title=q.section_title,
            counts=q.counts,
            rate=compliance_rate(q.counts, frame=frame, sampled=report.audits, min_n=min_n),
            question_key=q.question_key,
        )
        for q in report.questions
    ]
    sections = [
        RateRow(
            template_key=s.template_key,
            label=s.section_title,
            counts=s.counts,
            rate=compliance_rate(s.counts, frame=frame, sampled=report.audits, min_n=min_n),
        )
        for s in report.sections
    ]
    # By team when the selection is one area (or one team); otherwise by service area.
    by_team = flt.service_area_id is not None or flt.team_id is not None
    groups, by = (grades.by_team, "team") if by_team else (grades.by_service_area, "service area")
    trend_rows = _trend(trend, frame=frame, min_n=min_n)
    trend_chart, audits_chart = _trend_charts(trend_rows)
    return Report(
        flt=flt,
        audits=report.audits,
        min_n=min_n,
        grades=grades,
        grade_chart=_grade_chart(groups, by),
        grade_chart_by=by,
        moderation=moderation,
        frame_size=frame,
        questions=questions,
        sections=sections,
        section_chart=_section_chart(sections),
        trend=trend_rows,
        trend_chart=trend_chart,
        audits_chart=audits_chart,
        targets=_targets(targets, report, grades, min_n=min_n, templates=templates),
    )


# --- Queries --------------------------------------------------------------------------------------------------


def build_report(session: Session, flt: ReportFilter, *, settings: Settings) -> Report:
    """Run the figures for `flt` and assemble the page's content. A targets file that cannot be used leaves the
    targets out (the page says so; the log says why) rather than losing the report."""
    zone = settings.timezone
    try:
        targets, problem = load_targets(settings.report_targets_file), False
    except TargetsError as exc:
        log.warning("report targets not shown: %s", exc)
        targets, problem = [], True
    templates = {v.key: template_definition(v) for v in template_latest_versions(session)}
    coded = monthly_coded_audits(session, flt, zone)  # one read of the selection for grades, frame, compliance, trend
    built = assemble(
        flt,
        grades=grade_distribution(session, flt, zone, coded),
        moderation=moderation_changes(session, flt, zone),
        report=compliance(session, flt, zone, coded),
        trend=monthly_trend(session, flt, zone, coded),
        targets=targets,
        min_n=settings.report_min_n,
        templates=templates,
    )
    for row in built.targets:
        if row.problem:  # shown on the page too, beside the target
            log.warning("report target %s cannot be measured: %s", row.target.key, row.problem)
    return replace(
        built,
        targets_problem=problem,
        teams=team_rows(team_compliance(session, flt, zone, coded), min_n=settings.report_min_n),
        agreement=moderation_figures(session, flt, zone, min_n=settings.report_min_n),
        recommendations=recommendation_figures(session, flt, zone, today=settings.today()),
        impact=impact_report(session, flt, zone, min_n=settings.report_min_n),
    )


def filter_choices(session: Session, *, area_id: int | None) -> dict[str, Any]:
    """What the filters form offers: service areas, teams (of `area_id` when given), cycles, templates, case types."""
    teams = select(Team).order_by(Team.name)
    if area_id is not None:
        teams = teams.where(Team.service_area_id == area_id)
    template_rows = session.execute(
        select(TemplateVersion.key, TemplateVersion.title).order_by(TemplateVersion.key, TemplateVersion.version)
    ).all()
    return {
        "service_areas": list(session.execute(select(ServiceArea).order_by(ServiceArea.name)).scalars()),
        "teams": list(session.execute(teams).scalars()),
        "cycles": list(session.execute(select(Cycle).order_by(Cycle.id.desc())).scalars()),
        "templates": list({k: t for k, t in template_rows}.items()),  # newest title per key
        "case_types": [(t.value, t.label) for t in CaseType],  # (value, label)
    }
