"""Every table of the reports page as plain rows, for the CSV and XLSX downloads (issue 8 "Exports").

Pure: `report_tables(report)` reads an assembled `Report` (app.reports.report) and touches no database. Cells are
numbers where the page shows numbers, so a spreadsheet can sum them: counts as integers, rates and percentages as
percentages rounded to 1 decimal place (66.7 for 2 of 3), and a blank cell (None) where there is no rate.

Adding a table is one function: decorate a builder with `@table(key, title)`; it takes the Report and returns
(headers, rows). The registry (`TABLES`, in the order the builders are defined) gives `report_tables`,
`table_by_key`, the export routes (`/reports/tables/{key}.csv` and `.xlsx`, app.reports.export_views) and the
download links (templates/reports/_downloads.html) without any other change. Keys are lowercase words joined by
hyphens (they are part of the URL and the file name); titles are at most 31 characters without : / \\ ? * [ ]
(they name the XLSX sheet).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from app.audit_templates.schema import GRADE_LABELS, Grade
from app.reports.figures import GRADES, Counts, GradeTally, GroupGrades
from app.reports.report import Report, rate_note
from app.reports.stats import Rate

Cell = str | int | float | None
Built = tuple[Sequence[str], Iterable[Sequence[Cell]]]  # (headers, rows)
Builder = Callable[[Report], Built]

KEY_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SHEET_FORBIDDEN = re.compile(r"[:/\\?*\[\]]")


@dataclass(frozen=True)
class Table:
    """One table of the reports page: `headers` name the columns of every row of `rows`."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str
    build: Builder


TABLES: dict[str, TableSpec] = {}


def table(key: str, title: str) -> Callable[[Builder], Builder]:
    """Register a builder of one downloadable table: `@table("grades-by-team", "Grades by team")`."""
    if not KEY_RE.fullmatch(key):
        raise ValueError(f"table key {key!r}: lowercase words joined by hyphens")
    if len(title) > 31 or _SHEET_FORBIDDEN.search(title):
        raise ValueError(f"table title {title!r}: at most 31 characters, none of : / \\ ? * [ ]")

    def register(build: Builder) -> Builder:
        if key in TABLES:
            raise ValueError(f"table key {key!r} is registered twice")
        TABLES[key] = TableSpec(key=key, title=title, build=build)
        return build

    return register


def _make(spec: TableSpec, report: Report) -> Table:
    headers, rows = spec.build(report)
    made = tuple(tuple(row) for row in rows)
    width = len(headers)
    assert all(len(row) == width for row in made), f"table {spec.key}: a row does not match the headers"
    return Table(key=spec.key, title=spec.title, headers=tuple(headers), rows=made)


def report_tables(report: Report) -> list[Table]:
    """Every table the reports page shows, in page order."""
    return [_make(spec, report) for spec in TABLES.values()]


def table_by_key(report: Report, key: str) -> Table | None:
    """One table (built alone), or None when no table has that key."""
    spec = TABLES.get(key)
    return _make(spec, report) if spec else None


# --- Cells ----------------------------------------------------------------------------------------------------


def pct(proportion: float | None) -> float | None:
    """A proportion (0 to 1) as a percentage rounded to 1 decimal place; None stays None (a blank cell)."""
    return None if proportion is None else round(100 * proportion, 1)


def rate_cells(r: Rate) -> tuple[Cell, Cell, Cell]:
    """Rate (%), 95% interval low (%), 95% interval high (%)."""
    low, high = (r.interval.low, r.interval.high) if r.interval else (None, None)
    return pct(r.value), pct(low), pct(high)


RATE_HEADERS = ("Rate (%)", "95% interval low (%)", "95% interval high (%)")
COUNT_HEADERS = ("Yes", "No", "N/A", "n (yes + no)")


def count_cells(c: Counts) -> tuple[int, int, int, int]:
    return c.yes, c.no, c.na, c.n


# --- Grades ---------------------------------------------------------------------------------------------------


def _grade_headers(first: str) -> tuple[str, ...]:
    per_grade = [h for g in GRADES for h in (GRADE_LABELS[Grade(g)], f"{GRADE_LABELS[Grade(g)]} (%)")]
    return (first, *per_grade, "No overall grade")


def _grade_row(name: str, t: GradeTally) -> tuple[Cell, ...]:
    """Counts and percentages (of the graded audits) per grade, best first, then the audits with no overall grade."""
    per_grade: list[Cell] = []
    for g in GRADES:
        share = t.percent(g)
        per_grade += [t.counts[g], None if share is None else round(share, 1)]
    return (name, *per_grade, t.ungraded)


def _grade_rows(groups: list[GroupGrades]) -> list[tuple[Cell, ...]]:
    return [_grade_row(g.name, g.grades) for g in groups]


@table("grades-overall", "Grades overall")
def grades_overall(report: Report) -> Built:
    return _grade_headers("Selection"), [_grade_row("All", report.grades.overall)]


@table("grades-by-service-area", "Grades by service area")
def grades_by_service_area(report: Report) -> Built:
    return _grade_headers("Service area"), _grade_rows(report.grades.by_service_area)


@table("grades-by-team", "Grades by team")
def grades_by_team(report: Report) -> Built:
    return _grade_headers("Team"), _grade_rows(report.grades.by_team)


@table("moderation-changes", "Moderation changes")
def moderation_changes(report: Report) -> Built:
    """Audits completed after moderation, by how the final grade compares with the auditor's (the rows sum to
    the audits moderated)."""
    m = report.moderation
    return ("Change", "Audits"), [
        ("Moved up", m.up),
        ("Moved down", m.down),
        ("Unchanged", m.same),
        ("No grade to compare", m.unknown),
    ]


# --- Compliance -----------------------------------------------------------------------------------------------


@table("compliance-by-section", "Compliance by section")
def compliance_by_section(report: Report) -> Built:
    headers = ("Template", "Section", *COUNT_HEADERS, *RATE_HEADERS, "Note")
    return headers, [
        (s.template_key, s.label, *count_cells(s.counts), *rate_cells(s.rate), s.note) for s in report.sections
    ]


@table("compliance-by-team", "Compliance by team")
def compliance_by_team(report: Report) -> Built:
    """Each team over every compliance question, ranked (a blank rank: too few to judge, never ranked), and how it
    compares with the other teams together."""
    headers = ("Rank", "Team", *COUNT_HEADERS, *RATE_HEADERS, "Against the other teams", "Note")
    return headers, [
        (t.rank, t.name, *count_cells(t.counts), *rate_cells(t.rate), t.against_rest_text, t.note) for t in report.teams
    ]


@table("compliance-by-question", "Compliance by question")
def compliance_by_question(report: Report) -> Built:
    headers = ("Template", "Section", "Question", *COUNT_HEADERS, *RATE_HEADERS, "Note")
    return headers, [
        (q.template_key, q.section_title, q.label, *count_cells(q.counts), *rate_cells(q.rate), q.note)
        for q in report.questions
    ]


# --- Moderation agreement and recommendations (app.reports.sections) -----------------------------------------


def kappa_cell(value: float | None) -> float | None:
    """A kappa (or its interval's end) rounded to 3 decimal places; None stays None (a blank cell)."""
    return None if value is None else round(value, 3)


NO_ROUNDS = "none of these audits has been graded by a moderator"
NO_PAIRS = "no graded round has an overall grade from both the auditor and the moderator"


@table("moderation-agreement", "Moderation agreement")
def moderation_agreement(report: Report) -> Built:
    """Agreement on the overall grade over the graded moderation rounds: one row, blank cells where there is no
    figure (no pairs; kappa undefined), with the page's note (or why there is no figure)."""
    ag = report.agreement
    a = ag.agreement
    low, high = a.interval or (None, None)
    note = ag.note if ag.n else NO_ROUNDS if not ag.rounds else NO_PAIRS
    headers = (
        "Graded moderation rounds",
        "Pairs of grades",
        "Agreed",
        "Exact agreement (%)",
        "Weighted kappa",
        "Kappa 95% interval low",
        "Kappa 95% interval high",
        "Note",
    )
    return headers, [
        (
            ag.rounds,
            ag.n,
            a.agreed,
            pct(a.exact_agreement),
            kappa_cell(a.weighted_kappa),
            kappa_cell(low),
            kappa_cell(high),
            note,
        )
    ]


@table("recommendations", "Recommendations")
def recommendations(report: Report) -> Built:
    """Raised and closed in the period, outstanding and overdue now, and the median days to close (blank when none
    was closed in the period), as the page lists them."""
    rec = report.recommendations
    return ("Measure", "Value"), [
        ("Raised in the period", rec.raised),
        ("Closed in the period", rec.closed),
        ("Outstanding now", rec.outstanding),
        ("Overdue now", rec.overdue),
        ("Median days to close, of those closed in the period", rec.median_days),
    ]


@table("recommendation-themes", "Recommendation themes")
def recommendation_themes(report: Report) -> Built:
    """The most common themes of the recommendations raised in the period (at most five), most common first."""
    return ("Theme", "Recommendations raised"), [(t.name, t.count) for t in report.recommendations.themes]


# --- Trend and targets ----------------------------------------------------------------------------------------


@table("monthly-trend", "Good or better by month")
def monthly_trend(report: Report) -> Built:
    headers = ("Month", "Completed audits", "Graded", "Good or better", *RATE_HEADERS, "Note")
    return headers, [(m.label, m.audits, m.graded, m.good_or_better, *rate_cells(m.rate), m.note) for m in report.trend]


# --- Impact (app.reports.impact) -----------------------------------------------------------------------------
# No rows when the report has no impact section; zero counts (and blank rates) when no case was audited before.


@table("impact-grade-change", "Impact grade change")
def impact_grade_change(report: Report) -> Built:
    g = report.impact.grades if report.impact else None
    rows = (
        []
        if g is None
        else [
            ("Improved", g.improved),
            ("Same grade", g.same),
            ("Worse", g.worse),
            ("No overall grade on one of the audits", g.not_compared),
        ]
    )
    return ("Change", "Follow-ups"), rows


@table("impact-grade-moves", "Impact grades before and after")
def impact_grade_moves(report: Report) -> Built:
    """Follow-ups by the grade at the earlier audit (rows) and at the follow-up (columns), best first."""
    headers = ("Earlier grade", *(f"Follow-up {GRADE_LABELS[Grade(g)]}" for g in GRADES), "All")
    rows = (
        []
        if report.impact is None
        else [(GRADE_LABELS[Grade(before)], *cells, total) for before, cells, total in report.impact.grades.rows()]
    )
    return headers, rows


@table("impact-compliance-change", "Impact compliance change")
def impact_compliance_change(report: Report) -> Built:
    c = report.impact.compliance if report.impact else None
    rows = (
        []
        if c is None
        else [
            ("Higher", c.up),
            ("The same", c.same),
            ("Lower", c.down),
            ("No compliance answers on one of the audits", c.not_compared),
        ]
    )
    return ("Change", "Follow-ups"), rows


@table("impact-compliance", "Impact compliance before-after")
def impact_compliance(report: Report) -> Built:
    """The answers of the follow-ups with answers on both audits, pooled: earlier audits against follow-ups, each
    with its rate and 95% interval, and whether the two differ (the same words on both rows)."""
    headers = ("Audits", "Yes", "No", "n (yes + no)", *RATE_HEADERS, "Difference", "Note")
    c = report.impact.compliance if report.impact else None
    rows = (
        []
        if c is None
        else [
            (label, r.yes, r.n - r.yes, r.n, *rate_cells(r), c.difference_text, rate_note(r))
            for label, r in (("Earlier audits", c.before), ("Follow-ups", c.after))
        ]
    )
    return headers, rows


@table("impact-recommendations", "Impact recommendations")
def impact_recommendations(report: Report) -> Built:
    """The earlier audits' recommendations by the earlier audit's cycle, and whether each was closed before the
    follow-up audit was started."""
    headers = (
        "Cycle of the earlier audit",
        "Follow-up audits",
        "Recommendations raised",
        "Closed before the follow-up",
        "Not closed before it",
        "Of which still outstanding",
    )
    cycles = report.impact.cycles if report.impact else []
    return headers, [
        (c.title, c.follow_ups, c.raised, c.closed_before, c.not_closed_before, c.outstanding) for c in cycles
    ]


@table("targets", "Targets")
def targets(report: Report) -> Built:
    headers = (
        "Target",
        "Source",
        "Measure",
        "Measured from (question)",
        "Target level (%)",
        "Direction",
        "n",
        "Measured rate (%)",
        "95% interval low (%)",
        "95% interval high (%)",
        "Verdict",
        "Note",
    )
    return headers, [
        (
            t.target.label,
            t.target.source,
            t.measure,
            t.question,
            pct(t.target.target),
            "at most" if t.target.at_most else "at least",
            t.measured.n,
            *rate_cells(t.measured),
            t.verdict_text,
            t.note,
        )
        for t in report.targets
    ]
