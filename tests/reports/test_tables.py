"""The reports page's tables as rows for the downloads (app.reports.tables): the hand-counted figures of
tests/reports/conftest.py, numbers as numbers (percentages to 1 decimal place, blank when there is none), the frame
correction and "too few to judge" notes, and the registry that makes adding a table one function."""

from __future__ import annotations

from datetime import date

import pytest

from app.recommendations.themes.service import Month
from app.reports import tables
from app.reports.figures import (
    ComplianceReport,
    Counts,
    GradeCounts,
    GradeTally,
    GroupGrades,
    ModerationChanges,
    QuestionCompliance,
    SectionCompliance,
    Trend,
    TrendMonth,
)
from app.reports.filters import ReportFilter, report_filter_from_query
from app.reports.impact import DIFFERENCE_TEXT, NO_CYCLE
from app.reports.report import Report, assemble, build_report
from app.reports.stats import Difference, Spread, clustered_rate, rate
from app.reports.tables import TABLES, Table, pct, report_tables, table, table_by_key
from app.reports.targets import Target
from tests.reports.conftest import CFA, DIP, FRAME_SIZE, TODAY
from tests.reports.test_impact import iw  # noqa: F401 - the follow-up audits' world (fixture)
from tests.reports.test_sections import KAPPA_ALL, rec  # noqa: F401 - the recommendations' world (fixture)

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30"}
TOO_FEW = "too few to judge"


def report_for(db, settings, user, **params: str) -> Report:
    flt = report_filter_from_query({**PERIOD, **params}, user=user, today=TODAY)
    return build_report(db, flt, settings=settings)


def by_key(report: Report) -> dict[str, Table]:
    return {t.key: t for t in report_tables(report)}


def interval(yes: int, no: int, frame: int | None = None) -> tuple[float, float]:
    r = rate(yes, no, population=frame)
    assert r.interval is not None
    return pct(r.interval.low), pct(r.interval.high)


def clustered(yes: int, no: int, spread: Spread, frame: int | None = None, sampled: int | None = None) -> tuple:
    """The interval of answers pooled over audits, from their per-audit sums worked out by hand."""
    r = clustered_rate(yes, no, spread, population=frame, sampled=sampled)
    assert r.interval is not None
    return pct(r.interval.low), pct(r.interval.high)


# --- The hand-built world ------------------------------------------------------------------------------------


def test_every_table_of_the_page_is_there_in_page_order(db, settings, rw):
    found = report_tables(report_for(db, settings, rw.lead))
    assert [t.key for t in found] == [
        "grades-overall",
        "grades-by-service-area",
        "grades-by-team",
        "moderation-changes",
        "compliance-by-section",
        "compliance-by-team",
        "compliance-by-question",
        "moderation-agreement",
        "recommendations",
        "recommendation-themes",
        "monthly-trend",
        "impact-grade-change",
        "impact-grade-moves",
        "impact-compliance-change",
        "impact-compliance",
        "impact-recommendations",
        "targets",
    ]
    for t in found:
        assert all(len(row) == len(t.headers) for row in t.rows), t.key
        # numbers as numbers, text as text: never a formatted "25%" or "2 (25%)"
        assert all(cell is None or isinstance(cell, int | float | str) for row in t.rows for cell in row), t.key
        assert not any(isinstance(cell, str) and cell.endswith("%") for row in t.rows for cell in row), t.key


def test_grades_are_the_hand_counted_counts_and_percentages(db, settings, rw):
    found = by_key(report_for(db, settings, rw.lead))
    overall = found["grades-overall"]
    assert overall.headers == (
        "Selection",
        "Outstanding",
        "Outstanding (%)",
        "Good",
        "Good (%)",
        "Requires improvement to be good",
        "Requires improvement to be good (%)",
        "Inadequate",
        "Inadequate (%)",
        "No overall grade",
    )
    # a1 good, a2 RI (moderated), a3 outstanding (moderated), a4 inadequate; a5 and a6 have no overall grade
    assert overall.rows == (("All", 1, 25.0, 1, 25.0, 1, 25.0, 1, 25.0, 2),)
    assert found["grades-by-service-area"].headers[0] == "Service area"
    assert found["grades-by-service-area"].rows == (
        ("Children in care", 0, 0.0, 0, 0.0, 0, 0.0, 1, 100.0, 1),
        ("Safeguarding", 1, 33.3, 1, 33.3, 1, 33.3, 0, 0.0, 1),
    )  # 1 of 3 graded: 33.3, to 1 decimal place
    assert found["grades-by-team"].headers[0] == "Team"
    assert found["grades-by-team"].rows == (
        ("Care", 0, 0.0, 0, 0.0, 0, 0.0, 1, 100.0, 1),
        ("North", 0, 0.0, 1, 50.0, 1, 50.0, 0, 0.0, 1),
        ("South", 1, 100.0, 0, 0.0, 0, 0.0, 0, 0.0, 0),
    )


def test_moderation_changes(db, settings, rw):
    # a2 good -> RI (down), a3 good -> outstanding (up), a4 inadequate -> inadequate (same)
    found = table_by_key(report_for(db, settings, rw.lead), "moderation-changes")
    assert found is not None and found.headers == ("Change", "Audits")
    assert found.rows == (("Moved up", 1), ("Moved down", 1), ("Unchanged", 1), ("No grade to compare", 0))


def test_compliance_per_question_and_section(db, settings, rw):
    found = by_key(report_for(db, settings, rw.lead))
    questions = found["compliance-by-question"]
    assert questions.headers == (
        "Template",
        "Section",
        "Question",
        "Yes",
        "No",
        "N/A",
        "n (yes + no)",
        "Rate (%)",
        "95% interval low (%)",
        "95% interval high (%)",
        "Note",
    )
    rows = {(r[0], r[2]): r for r in questions.rows}
    chronology = next(r for (t, label), r in rows.items() if t == CFA and label.startswith("Is there a chronology"))
    # a1 yes, a2 no, a3 yes, a4 n/a: 2 of 3, Wilson 20.8%-93.9%
    assert chronology[1] == "B. History and chronology"
    assert chronology[3:] == (2, 1, 1, 3, 66.7, 20.8, 93.9, TOO_FEW) and interval(2, 1) == (20.8, 93.9)
    # a question nobody answered: zero counts and blank rate and interval, not 0%
    unanswered = next(r for r in questions.rows if r[0] == DIP and r[3:7] == (0, 0, 0, 0))
    assert unanswered[7:] == (None, None, None, TOO_FEW)
    sections = {(r[0], r[1]): r[2:] for r in found["compliance-by-section"].rows}
    assert found["compliance-by-section"].headers[:2] == ("Template", "Section")
    # Section B: a1 (yes, yes), a2 (no, yes), a3 (yes, no), a4 n/a; the interval allows for answers of one audit
    # moving together: 3 audits answering, Σyes² 6, Σyes·n 8, Σn² 12.
    section_b = (4, 2, 1, 6, 66.7, *clustered(4, 2, Spread(audits=3, yy=6, yn=8, nn=12)), TOO_FEW)
    assert sections[(CFA, "B. History and chronology")] == section_b
    assert clustered(4, 2, Spread(audits=3, yy=6, yn=8, nn=12)) != interval(4, 2)
    # The dip sample's checklist: a5 (no, n/a), a6 (yes, yes).
    dip = (2, 1, 1, 3, 66.7, *clustered(2, 1, Spread(audits=2, yy=4, yn=4, nn=5)), TOO_FEW)
    assert sections[(DIP, "Compliance checklist")] == dip


def test_compliance_by_team(db, settings, rw):
    found = table_by_key(report_for(db, settings, rw.lead), "compliance-by-team")
    assert found is not None
    assert found.headers == (
        "Rank",
        "Team",
        "Yes",
        "No",
        "N/A",
        "n (yes + no)",
        "Rate (%)",
        "95% interval low (%)",
        "95% interval high (%)",
        "Against the other teams",
        "Note",
    )
    # as tests/reports/test_team_compliance.py counts them: every team too few to rank (a blank rank)
    assert found.rows == (
        (None, "Care", 2, 0, 1, 2, 100.0, *clustered(2, 0, Spread(1, 4, 4, 4)), "Cannot tell", TOO_FEW),
        (None, "North", 3, 2, 1, 5, 60.0, *clustered(3, 2, Spread(3, 5, 6, 9)), "Cannot tell", TOO_FEW),
        (None, "South", 1, 1, 0, 2, 50.0, *clustered(1, 1, Spread(1, 1, 2, 4)), "Cannot tell", TOO_FEW),
    )


def test_one_sample_notes_the_frame_correction(db, settings, rw):
    found = by_key(report_for(db, settings, rw.lead, cycle=str(rw.cycle_a.id)))
    sections = {(r[0], r[1]): r[2:] for r in found["compliance-by-section"].rows}
    # a1 yes yes, a2 no yes, a3 yes no: 4 of 6, corrected for the sample's frame
    assert sections[(CFA, "B. History and chronology")] == (
        4,
        2,
        0,
        6,
        66.7,
        *clustered(4, 2, Spread(audits=3, yy=6, yn=8, nn=12), FRAME_SIZE, 3),
        f"{TOO_FEW}; corrected for a frame of {FRAME_SIZE}",
    )
    # corrected for the 3 cases sampled of the frame
    assert clustered(4, 2, Spread(3, 6, 8, 12), FRAME_SIZE, 3) != clustered(4, 2, Spread(3, 6, 8, 12))


def test_monthly_trend(db, settings, rw):
    found = table_by_key(report_for(db, settings, rw.lead), "monthly-trend")
    assert found is not None
    assert found.headers == (
        "Month",
        "Completed audits",
        "Graded",
        "Good or better",
        "Rate (%)",
        "95% interval low (%)",
        "95% interval high (%)",
        "Note",
    )
    one_of_one, none_of_one = interval(1, 0), interval(0, 1)
    assert found.rows == (
        ("Jan 2026", 0, 0, 0, None, None, None, "no graded audits"),
        ("Feb 2026", 0, 0, 0, None, None, None, "no graded audits"),
        ("Mar 2026", 1, 1, 1, 100.0, *one_of_one, TOO_FEW),  # a1 good
        ("Apr 2026", 1, 1, 0, 0.0, *none_of_one, TOO_FEW),  # a2 RI
        ("May 2026", 2, 1, 0, 0.0, *none_of_one, TOO_FEW),  # a4 inadequate, a5 ungraded
        ("Jun 2026", 2, 1, 1, 100.0, *one_of_one, TOO_FEW),
    )  # a3 outstanding (June in London), a6 ungraded
    assert one_of_one == (20.7, 100.0)


def test_targets(db, settings, rw):
    found = table_by_key(report_for(db, settings, rw.lead), "targets")
    assert found is not None
    assert found.headers == (
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
    rows = {r[0]: r for r in found.rows}
    inadequate = rows["No more than 10% of audits Inadequate"]
    # 1 of the 4 graded audits is inadequate
    assert inadequate[1].startswith("Improvement plan")
    assert inadequate[2:] == (
        "Graded audits graded Inadequate",
        "",  # a grade target has no question
        10.0,
        "at most",
        4,
        25.0,
        *interval(1, 3),
        "Cannot tell",
        TOO_FEW,
    )
    assessments = rows["90% of assessments within timescale"]
    assert assessments[3] == (
        "“Was the latest child and family assessment completed within 45 working days of referral?”, "
        "Dip sample compliance checklist (dip_sample.assessment_within_45_days)"
    )
    assert assessments[4:] == (
        90.0,
        "at least",
        0,
        None,
        None,
        None,
        "Cannot tell",
        "nothing to measure in this selection",
    )


# --- Moderation agreement, recommendations and impact (the worlds of test_sections.py and test_impact.py) -------

AGREEMENT_HEADERS = (
    "Graded moderation rounds",
    "Pairs of grades",
    "Agreed",
    "Exact agreement (%)",
    "Weighted kappa",
    "Kappa 95% interval low",
    "Kappa 95% interval high",
    "Note",
)


def test_moderation_agreement(db, settings, rw):
    report = report_for(db, settings, rw.lead)
    found = table_by_key(report, "moderation-agreement")
    assert found is not None and found.headers == AGREEMENT_HEADERS
    # every graded round of a2 (two), a3 and a4 (two): only a4's second round agrees; kappa 4/11
    low, high = report.agreement.agreement.interval
    assert found.rows == ((5, 5, 1, 20.0, 0.364, round(low, 3), round(high, 3), TOO_FEW),)
    assert round(KAPPA_ALL, 3) == 0.364 and -1 <= low < KAPPA_ALL < high <= 1
    # Safeguarding: every auditor's grade good, so kappa 0 (a number, not a blank)
    (area,) = table_by_key(report_for(db, settings, rw.hos), "moderation-agreement").rows
    assert area[:5] == (3, 3, 0, 0.0, 0.0) and area[-1] == TOO_FEW
    # no moderated audit: blanks, and the note says why
    (none,) = table_by_key(report_for(db, settings, rw.lead, template=DIP), "moderation-agreement").rows
    assert none == (0, 0, 0, None, None, None, None, tables.NO_ROUNDS)


@pytest.mark.usefixtures("rec")
def test_recommendations_and_their_themes(db, settings, rw):
    found = by_key(report_for(db, settings, rw.lead))
    assert found["recommendations"].headers == ("Measure", "Value")
    # raised r1 r2 r3 r4 r6 r9 r10; closed r1 r2 r5 (10, 20, 65 days); outstanding r3 r4 r6 r7 r9; overdue r3 r6 r9
    assert found["recommendations"].rows == (
        ("Raised in the period", 7),
        ("Closed in the period", 3),
        ("Outstanding now", 5),
        ("Overdue now", 3),
        ("Median days to close, of those closed in the period", 20.0),
    )
    assert found["recommendation-themes"].headers == ("Theme", "Recommendations raised")
    assert found["recommendation-themes"].rows == (
        ("Report theme A", 3),
        ("Report theme B", 3),
        ("Report theme C", 1),
        ("Report theme D", 1),
        ("Report theme E", 1),
    )
    # the team South: none closed in the period, so the median is a blank cell, not 0
    south = by_key(report_for(db, settings, rw.lead, team=str(rw.south.id)))
    assert [r[1] for r in south["recommendations"].rows] == [3, 0, 2, 1, None]
    # a head of service: their own area's
    mine = by_key(report_for(db, settings, rw.hos))
    assert [r[1] for r in mine["recommendations"].rows] == [5, 3, 2, 1, 20.0]
    assert "Report theme D" not in [r[0] for r in mine["recommendation-themes"].rows]


@pytest.mark.usefixtures("iw")
def test_impact_tables(db, settings, rw):
    found = by_key(report_for(db, settings, rw.lead))
    assert found["impact-grade-change"].headers == ("Change", "Follow-ups")
    assert found["impact-grade-change"].rows == (
        ("Improved", 3),
        ("Same grade", 1),
        ("Worse", 1),
        ("No overall grade on one of the audits", 1),
    )
    moves = found["impact-grade-moves"]
    assert moves.headers == (
        "Earlier grade",
        "Follow-up Outstanding",
        "Follow-up Good",
        "Follow-up Requires improvement to be good",
        "Follow-up Inadequate",
        "All",
    )
    assert moves.rows == (
        ("Outstanding", 1, 0, 0, 0, 1),  # a3 -> f3
        ("Good", 1, 0, 0, 1, 2),  # a1 -> f1, a8 -> f5
        ("Requires improvement to be good", 0, 1, 0, 0, 1),  # a2 -> f2
        ("Inadequate", 0, 0, 1, 0, 1),
    )  # a4 -> f4
    assert found["impact-compliance-change"].rows == (
        ("Higher", 2),
        ("The same", 2),
        ("Lower", 1),
        ("No compliance answers on one of the audits", 1),
    )
    compliance = found["impact-compliance"]
    assert compliance.headers == (
        "Audits",
        "Yes",
        "No",
        "n (yes + no)",
        "Rate (%)",
        "95% interval low (%)",
        "95% interval high (%)",
        "Difference",
        "Note",
    )
    cannot_tell = DIFFERENCE_TEXT[Difference.CANNOT_TELL]  # 9 answers each: too few to judge
    assert compliance.rows == (
        ("Earlier audits", 6, 3, 9, 66.7, *clustered(6, 3, Spread(5, 10, 12, 17)), cannot_tell, TOO_FEW),
        ("Follow-ups", 7, 2, 9, 77.8, *clustered(7, 2, Spread(5, 11, 13, 17)), cannot_tell, TOO_FEW),
    )
    recs = found["impact-recommendations"]
    assert recs.headers == (
        "Cycle of the earlier audit",
        "Follow-up audits",
        "Recommendations raised",
        "Closed before the follow-up",
        "Not closed before it",
        "Of which still outstanding",
    )
    assert recs.rows == (
        ("Spring deep dive", 3, 4, 2, 2, 1),
        ("May dip sample", 1, 1, 0, 1, 1),
        ("Summer follow-up", 1, 1, 0, 1, 0),
        (NO_CYCLE, 1, 1, 1, 0, 0),
    )


@pytest.mark.usefixtures("iw")
def test_impact_when_no_case_was_audited_before(db, settings, rw):
    found = by_key(report_for(db, settings, rw.lead, date_to="2026-05-31"))  # a1..a5: first audits
    assert [r[1] for r in found["impact-grade-change"].rows] == [0, 0, 0, 0]
    assert all(r[1:] == (0, 0, 0, 0, 0) for r in found["impact-grade-moves"].rows)
    assert [r[1:] for r in found["impact-compliance"].rows] == [
        (0, 0, 0, None, None, None, DIFFERENCE_TEXT[Difference.CANNOT_TELL], TOO_FEW)
    ] * 2
    assert found["impact-recommendations"].rows == ()


def test_head_of_service_tables_hold_their_area_only(db, settings, rw):
    found = by_key(report_for(db, settings, rw.hos, service_area=str(rw.care.service_area_id)))
    assert [r[0] for r in found["grades-by-service-area"].rows] == ["Safeguarding"]
    assert [r[0] for r in found["grades-by-team"].rows] == ["North", "South"]
    assert found["grades-overall"].rows == (("All", 1, 33.3, 1, 33.3, 1, 33.3, 0, 0.0, 1),)  # a1, a2, a3, a5


# --- Hand figures, no database -------------------------------------------------------------------------------


def _hand_report(*, frame: int | None = 50, min_n: int = 10) -> Report:
    tally = GradeTally(counts={"outstanding": 2, "good": 3, "requires_improvement": 1, "inadequate": 0}, ungraded=4)
    grades = GradeCounts(
        overall=tally,
        by_service_area=[GroupGrades(1, "East", tally)],
        by_team=[GroupGrades(7, "Blue", tally), GroupGrades(None, "No team", GradeTally(ungraded=2))],
    )
    answered = QuestionCompliance("t", "s1", "Section one", "q1", '=HYPERLINK("x")', Counts(yes=12, no=3, na=1))
    silent = QuestionCompliance("t", "s1", "Section one", "q2", "Never answered", Counts())
    compliance = ComplianceReport(
        questions=[answered, silent],
        sections=[SectionCompliance("t", "s1", "Section one", Counts(yes=12, no=3, na=1))],
        frame_size=frame,
        audits=15,
    )
    months = [
        TrendMonth(Month(date(2026, 5, 1), date(2026, 5, 31)), audits=0, grades=GradeTally(), answers={}),
        TrendMonth(Month(date(2026, 6, 1), date(2026, 6, 30)), audits=10, grades=tally, answers={}),
    ]
    question_target = Target(key="q1_target", label="80% of q1", source="Plan", question="t.q1", target=0.8)
    return assemble(
        ReportFilter(),
        grades=grades,
        moderation=ModerationChanges(moderated=2, up=1, same=1),
        report=compliance,
        trend=Trend(months=months, questions={}),
        targets=[question_target],
        min_n=min_n,
    )


def test_hand_figures_give_numbers_blanks_and_notes():
    found = by_key(_hand_report())
    corrected = "corrected for a frame of 50"
    r = rate(12, 3, population=50)
    assert r.corrected and not r.too_few
    q1, q2 = found["compliance-by-question"].rows
    assert q1 == ("t", "Section one", '=HYPERLINK("x")', 12, 3, 1, 15, 80.0, *interval(12, 3, 50), corrected)
    # the note is the page's: as for the page, no answers is too few (and the frame is still named)
    assert q2 == ("t", "Section one", "Never answered", 0, 0, 0, 0, None, None, None, f"{TOO_FEW}; {corrected}")
    assert found["compliance-by-section"].rows == (
        ("t", "Section one", 12, 3, 1, 15, 80.0, *interval(12, 3, 50), corrected),
    )
    # 2 of 6 graded outstanding: 33.3; a group with nothing graded has blank percentages
    assert found["grades-overall"].rows == (("All", 2, 33.3, 3, 50.0, 1, 16.7, 0, 0.0, 4),)
    assert found["grades-by-team"].rows[1] == ("No team", 0, None, 0, None, 0, None, 0, None, 2)
    assert found["moderation-changes"].rows == (
        ("Moved up", 1),
        ("Moved down", 0),
        ("Unchanged", 1),
        ("No grade to compare", 0),
    )
    may, june = found["monthly-trend"].rows
    assert may == ("May 2026", 0, 0, 0, None, None, None, "no graded audits")
    assert june == ("Jun 2026", 10, 6, 5, 83.3, *interval(5, 1), TOO_FEW)  # the trend is never frame-corrected
    (target,) = found["targets"].rows
    assert target[:3] == ("80% of q1", "Plan", 'Yes answers to “=HYPERLINK("x")” (t)')
    assert target[3:7] == ('“=HYPERLINK("x")”, t (t.q1)', 80.0, "at least", 15)
    assert target[7:10] == (80.0, *interval(12, 3, 50))


def test_an_empty_report_has_headers_and_zero_rows():
    empty = assemble(
        ReportFilter(),
        grades=GradeCounts(GradeTally(), [], []),
        moderation=ModerationChanges(),
        report=ComplianceReport([], [], None, 0),
        trend=Trend(months=[], questions={}),
        targets=[],
        min_n=10,
    )
    found = by_key(empty)
    assert found["grades-overall"].rows == (("All", 0, None, 0, None, 0, None, 0, None, 0),)
    for key in (
        "grades-by-service-area",
        "grades-by-team",
        "compliance-by-question",
        "compliance-by-section",
        "compliance-by-team",
        "monthly-trend",
        "targets",
        "recommendation-themes",
        "impact-grade-change",
        "impact-grade-moves",
        "impact-compliance-change",
        "impact-compliance",
        "impact-recommendations",
    ):  # no impact section
        assert found[key].rows == () and found[key].headers, key
    assert found["moderation-agreement"].rows == ((0, 0, 0, None, None, None, None, tables.NO_ROUNDS),)
    assert [r[1] for r in found["recommendations"].rows] == [0, 0, 0, 0, None]


# --- The registry --------------------------------------------------------------------------------------------


def test_unknown_key_is_none():
    assert table_by_key(_hand_report(), "no-such-table") is None
    assert table_by_key(_hand_report(), "../grades-overall") is None


def test_keys_and_titles_fit_urls_and_sheet_names():
    for key, spec in TABLES.items():
        assert spec.key == key and tables.KEY_RE.fullmatch(key)
        assert 0 < len(spec.title) <= 31 and not any(c in spec.title for c in ":/\\?*[]")


def test_adding_a_table_is_one_function(monkeypatch):
    monkeypatch.setattr(tables, "TABLES", dict(TABLES))

    @table("audits-count", "Audits")
    def audits_count(report: Report):
        return ("Completed audits",), [(report.audits,)]

    report = _hand_report()
    assert [t.key for t in tables.report_tables(report)][-1] == "audits-count"
    assert tables.table_by_key(report, "audits-count") == Table(
        "audits-count", "Audits", ("Completed audits",), ((15,),)
    )
    assert "audits-count" not in TABLES  # the real registry is untouched


def test_the_registry_refuses_bad_tables(monkeypatch):
    monkeypatch.setattr(tables, "TABLES", dict(TABLES))
    with pytest.raises(ValueError, match="registered twice"):
        table("targets", "Targets again")(lambda report: ((), []))
    with pytest.raises(ValueError, match="lowercase"):
        table("Bad Key", "Title")
    with pytest.raises(ValueError, match="31 characters"):
        table("long-title", "A title far too long for a sheet name")
    with pytest.raises(ValueError, match="31 characters"):
        table("colon", "Grades: all")

    @table("ragged", "Ragged")
    def ragged(report: Report):
        return ("One", "Two"), [(1,)]

    with pytest.raises(AssertionError, match="ragged"):
        tables.table_by_key(_hand_report(), "ragged")
