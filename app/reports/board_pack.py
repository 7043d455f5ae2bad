"""The board pack (issue 8): one report for a month or a quarter, as a printable page and a PDF, with a short written
summary of what changed since the period before, each statement pointing at the figure in the pack behind it.

Pure parts, tested directly: the period arithmetic (`Period`, `period_from_query`, `previous_period`), the choice of
measures the summary speaks about (`pack_measures`), the filter's description and the PDF's file name. `build_pack`
runs the reports' queries (app.reports.report.build_report) for the period, the period before and the 12 months to
the period's end (the trend), always with the reader's filter and scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team
from app.audit_templates.models import TemplateVersion
from app.cases.facts import CASE_TYPE_LABELS
from app.config import Settings
from app.dates import months_before
from app.reports.filters import ReportFilter
from app.reports.report import GOOD_OR_BETTER, Report, build_report
from app.reports.stats import Rate, rate
from app.reports.summary import Measure, Statement, summarise
from app.sampling.models import Cycle
from app.web.pdf import STATIC, pdf_of
from app.web.query import QueryReader

PACK_CSS = STATIC / "board-pack.css"

PeriodKind = Literal["month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "quarter")
# The first year a period may be in: the one before it must still be a real date for the time-zone arithmetic.
EARLIEST_YEAR, LATEST_YEAR = 1901, 9998
TREND_MONTHS = 12

# Ids in the pack's page of the figures the summary points at (templates/reports/board_pack.html and the
# reports partials it includes).
AT_A_GLANCE = "at-a-glance"
GRADES_ANCHOR = "grades-overall"
SECTIONS_ANCHOR = "compliance-sections"  # the section chart (drawn when a section has enough answers)
SECTIONS_TOO_FEW_ANCHOR = "compliance-sections-too-few"  # what the page says instead when none has


FIGURE_NAMES = {
    AT_A_GLANCE: "at a glance",
    GRADES_ANCHOR: "the grades of all selected audits",
    SECTIONS_ANCHOR: "compliance by section",
    SECTIONS_TOO_FEW_ANCHOR: "compliance",
}


def target_anchor(key: str) -> str:
    return f"target-{key}"


def figure_name(anchor: str) -> str:
    """What a summary statement's link says: the figure it points at."""
    return "the targets" if anchor.startswith("target-") else FIGURE_NAMES.get(anchor, "the figure")


# --- Periods ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A local calendar month or quarter; `first` and `last` are its first and last days."""

    kind: PeriodKind
    first: date
    last: date

    @property
    def value(self) -> str:
        """As the query parameter gives it: 2026-05 or 2026-Q2."""
        if self.kind == "month":
            return f"{self.first.year:04d}-{self.first.month:02d}"
        return f"{self.first.year:04d}-Q{(self.first.month - 1) // 3 + 1}"

    @property
    def label(self) -> str:
        """As people read it: "May 2026" or "April to June 2026 (2026 Q2)"."""
        if self.kind == "month":
            return self.first.strftime("%B %Y")
        return f"{self.first.strftime('%B')} to {self.last.strftime('%B %Y')} ({self.first.year} Q{self.quarter})"

    @property
    def quarter(self) -> int:
        return (self.first.month - 1) // 3 + 1

    @property
    def slug(self) -> str:
        return self.value.lower()

    def query(self) -> dict[str, str]:
        return {"period": self.kind, self.kind: self.value}


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period("month", first, months_before(first, -1) - timedelta(days=1))


def quarter_period(year: int, quarter: int) -> Period:
    first = date(year, 3 * (quarter - 1) + 1, 1)
    return Period("quarter", first, months_before(first, -3) - timedelta(days=1))


def period_containing(kind: PeriodKind, day: date) -> Period:
    return month_period(day.year, day.month) if kind == "month" else quarter_period(day.year, (day.month - 1) // 3 + 1)


def previous_period(period: Period) -> Period:
    """The month or quarter just before."""
    return period_containing(period.kind, period.first - timedelta(days=1))


def default_period(kind: PeriodKind, today: date) -> Period:
    """The last whole month (or quarter) before today."""
    return previous_period(period_containing(kind, today))


def parse_month(text: str) -> Period | None:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})", text, re.ASCII)
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not (EARLIEST_YEAR <= year <= LATEST_YEAR and 1 <= month <= 12):
        return None
    return month_period(year, month)


def parse_quarter(text: str) -> Period | None:
    found = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", text, re.ASCII)
    if not found:
        return None
    year = int(found.group(1))
    return quarter_period(year, int(found.group(2))) if EARLIEST_YEAR <= year <= LATEST_YEAR else None


PERIOD_MESSAGES = {
    "period": "Period must be month or quarter",
    "month": "Month must be a month as YYYY-MM, for example 2026-05",
    "quarter": "Quarter must be a quarter as YYYY-Qn, for example 2026-Q2",
}
FUTURE_MESSAGES = {"month": "Month must be this month or earlier", "quarter": "Quarter must be this quarter or earlier"}


def period_from_query(params: Mapping[str, str], *, today: date) -> tuple[Period, dict[str, str]]:
    """The pack's period from `period=month&month=YYYY-MM` or `period=quarter&quarter=YYYY-Qn`; by default the last
    whole month (or quarter) before today. A value that makes no sense is named in the errors (field -> message) and
    the default used instead. Without `period`, a lone `quarter` means a quarter."""
    read = QueryReader(params)
    errors: dict[str, str] = {}
    kind_text = read.text("period").lower()
    kind: PeriodKind
    if kind_text in PERIOD_KINDS:
        kind = "quarter" if kind_text == "quarter" else "month"
    else:
        if kind_text:
            errors["period"] = PERIOD_MESSAGES["period"]
        kind = "quarter" if read.text("quarter") and not read.text("month") else "month"
    value = read.text(kind)
    if not value:
        return default_period(kind, today), errors
    period = parse_month(value) if kind == "month" else parse_quarter(value)
    if period is None:
        errors[kind] = PERIOD_MESSAGES[kind]
    elif period.first > today:
        errors[kind] = FUTURE_MESSAGES[kind]
        period = None
    return period or default_period(kind, today), errors


def trend_start(period: Period) -> date:
    """The first day of the 12 months that end with the period's last month."""
    return months_before(period.last.replace(day=1), TREND_MONTHS - 1)


# --- What the summary speaks about ------------------------------------------------------------------------------


def _grade_rate(report: Report, grades: tuple[str, ...]) -> Rate:
    overall = report.grades.overall
    count = sum(overall.counts[g] for g in grades)
    return rate(count, overall.graded - count, population=report.frame_size, sampled=report.audits, min_n=report.min_n)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def pack_measures(report: Report) -> list[Measure]:
    """The measures the summary compares between periods, each anchored at the figure in the pack that shows it:
    the share of graded audits Good or better and Inadequate (the grades table), each compliance section's rate (the
    section chart, or what the page says instead when every section has too few answers) and each target's
    measured rate (its row in the targets table). A grade with a target is spoken of once, as the target."""
    targeted_grades = {t.target.grade for t in report.targets if t.target.grade}
    measures = [
        Measure(
            "grade:good_or_better",
            "The share of graded audits Good or better",
            _grade_rate(report, GOOD_OR_BETTER),
            GRADES_ANCHOR,
        )
    ]
    if "inadequate" not in targeted_grades:
        measures.append(
            Measure(
                "grade:inadequate",
                "The share of graded audits Inadequate",
                _grade_rate(report, ("inadequate",)),
                GRADES_ANCHOR,
            )
        )
    sections = SECTIONS_TOO_FEW_ANCHOR if report.section_chart.empty else SECTIONS_ANCHOR
    measures += [
        Measure(
            f"section:{s.template_key}:{s.label}", f"Compliance in “{s.label}” ({s.template_key})", s.rate, sections
        )
        for s in report.sections
    ]
    measures += [
        Measure(
            f"target:{t.target.key}",
            f"Against the target “{t.target.label}”, {_lower_first(t.measure)}",
            t.measured,
            target_anchor(t.target.key),
        )
        for t in report.targets
    ]
    return measures


def pack_summary(now: Report, before: Report) -> list[Statement]:
    """The written summary: how many audits, then what changed. Measures with nothing to measure this period are
    left out (there is no figure in the pack to point at)."""
    measures = [m for m in pack_measures(now) if m.rate.n > 0]
    return summarise(
        audits_now=now.audits,
        audits_before=before.audits,
        audits_anchor=AT_A_GLANCE,
        now=measures,
        before=pack_measures(before),
    )


@dataclass(frozen=True)
class Comparison:
    """One measure in this period and the one before: the figures behind the summary's sentences."""

    label: str
    now: Rate
    before: Rate | None


def comparisons(now: Report, before: Report) -> list[Comparison]:
    previous = {m.key: m for m in pack_measures(before)}
    found = []
    for m in pack_measures(now):
        then = previous.get(m.key)
        if m.rate.n or (then and then.rate.n):
            found.append(Comparison(label=m.label, now=m.rate, before=then.rate if then else None))
    return found


# --- The pack -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterNames:
    """The names of what the filter narrows to (None: not narrowed)."""

    area: str | None = None
    team: str | None = None
    cycle: str | None = None
    template: str | None = None


def filter_names(session: Session, flt: ReportFilter) -> FilterNames:
    def name(model: type[ServiceArea | Team], row_id: int | None) -> str | None:
        row = session.get(model, row_id) if row_id is not None else None
        return row.name if row else None

    cycle = session.get(Cycle, flt.cycle_id) if flt.cycle_id is not None else None
    template = None
    if flt.template_key is not None:
        template = session.execute(
            select(TemplateVersion.title)
            .where(TemplateVersion.key == flt.template_key)
            .order_by(TemplateVersion.version.desc())
            .limit(1)
        ).scalar_one_or_none()
    return FilterNames(
        area=name(ServiceArea, flt.service_area_id),
        team=name(Team, flt.team_id),
        cycle=cycle.title if cycle else None,
        template=template,
    )


def where_text(flt: ReportFilter, names: FilterNames) -> str:
    """The area the pack is about, for its title."""
    if flt.service_area_id is None:
        return "all service areas"
    return names.area or f"service area {flt.service_area_id}"


def filter_description(flt: ReportFilter, names: FilterNames) -> str:
    """The selection in words, for the pack's reader."""
    parts = [f"Service area: {where_text(flt, names)}" if flt.service_area_id is not None else "All service areas"]
    if flt.team_id is not None:
        parts.append(f"team: {names.team or flt.team_id}")
    if flt.cycle_id is not None:
        parts.append(f"audit cycle: {names.cycle or flt.cycle_id}")
    if flt.template_key is not None:
        parts.append(f"template: {names.template or flt.template_key} ({flt.template_key})")
    if flt.case_type is not None:
        parts.append(f"case type: {CASE_TYPE_LABELS.get(flt.case_type, flt.case_type).lower()}")
    return "; ".join(parts) + "."


def pack_filename(period: Period, flt: ReportFilter, names: FilterNames) -> str:
    """`board-pack-2026-05-safeguarding.pdf`, or `...-all-areas.pdf`: letters, digits and hyphens only."""
    if flt.service_area_id is None:
        where = "all-areas"
    else:
        where = re.sub(r"[^a-z0-9]+", "-", (names.area or "").lower()).strip("-")[:40] or f"area-{flt.service_area_id}"
    return f"board-pack-{period.slug}-{where}.pdf"


@dataclass(frozen=True)
class BoardPack:
    period: Period
    previous: Period
    flt: ReportFilter  # narrowed to the period
    names: FilterNames
    report: Report  # the period
    before: Report  # the period before
    trend: Report  # the 12 months to the period's end (its trend is shown)
    summary: list[Statement]
    comparisons: list[Comparison]

    @property
    def where(self) -> str:
        return where_text(self.flt, self.names)

    @property
    def title(self) -> str:
        return f"Board pack: {self.period.label}, {self.where}"

    @property
    def description(self) -> str:
        return filter_description(self.flt, self.names)

    @property
    def filename(self) -> str:
        return pack_filename(self.period, self.flt, self.names)

    @property
    def trend_first(self) -> date:
        return trend_start(self.period)


def within(flt: ReportFilter, first: date, last: date) -> ReportFilter:
    return replace(flt, date_from=first, date_to=last)


def build_pack(session: Session, flt: ReportFilter, period: Period, *, settings: Settings) -> BoardPack:
    """The pack for `period` with the other filters (and scope) of `flt`."""
    previous = previous_period(period)
    now_flt = within(flt, period.first, period.last)
    report = build_report(session, now_flt, settings=settings)
    before = build_report(session, within(flt, previous.first, previous.last), settings=settings)
    trend = build_report(session, within(flt, trend_start(period), period.last), settings=settings)
    return BoardPack(
        period=period,
        previous=previous,
        flt=now_flt,
        names=filter_names(session, flt),
        report=report,
        before=before,
        trend=trend,
        summary=pack_summary(report, before),
        comparisons=comparisons(report, before),
    )


def pack_pdf(html: str) -> bytes:
    """The standalone pack as PDF (it references nothing outside itself: charts are inline SVG)."""
    return pdf_of(html, PACK_CSS)
