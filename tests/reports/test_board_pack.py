"""The board pack (issue 8): the period and the one before, the measures its summary speaks about, the printable page
(every statement pointing at a figure that is in the pack), the PDF (WeasyPrint, read back with pypdf), the audit
trail, scope and who may. On the hand-built audits of tests/reports/conftest.py (today is 15 June 2026):
April 2026 has a2; May 2026 a4 (Care, inadequate) and a5 (North, dip sample); a3 (31 May 23:30 UTC) is June."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.config import Settings
from app.reports.board_pack import (
    AT_A_GLANCE,
    GRADES_ANCHOR,
    SECTIONS_ANCHOR,
    SECTIONS_TOO_FEW_ANCHOR,
    FilterNames,
    default_period,
    filter_description,
    month_period,
    pack_filename,
    pack_measures,
    parse_month,
    parse_quarter,
    period_from_query,
    previous_period,
    quarter_period,
    trend_start,
)
from app.reports.figures import (
    ComplianceReport,
    Counts,
    GradeCounts,
    ModerationChanges,
    QuestionCompliance,
    SectionCompliance,
    Trend,
    tally,
)
from app.reports.filters import ReportFilter, report_filter_from_query
from app.reports.impact import NO_CYCLE
from app.reports.report import assemble, build_report
from app.reports.stats import rate
from app.reports.targets import Target
from tests.factories import login, make_user
from tests.reports.test_impact import iw  # noqa: F401 - the follow-up audits' world (fixture)
from tests.reports.test_pages import table, text_of
from tests.reports.test_sections import rec  # noqa: F401 - the recommendations' world (fixture)

TODAY = date(2026, 6, 15)
PACK, PDF = "/reports/board-pack", "/reports/board-pack.pdf"
MAY = {"period": "month", "month": "2026-05"}
Q2 = {"period": "quarter", "quarter": "2026-Q2"}


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The service's today is the hand-built world's (15 June 2026)."""
    monkeypatch.setattr(Settings, "today", lambda self: TODAY)


# --- Periods (pure) --------------------------------------------------------------------------------------------


def test_months_and_quarters_and_the_period_before():
    may = month_period(2026, 5)
    assert (may.first, may.last, may.value, may.label, may.slug) == (
        date(2026, 5, 1),
        date(2026, 5, 31),
        "2026-05",
        "May 2026",
        "2026-05",
    )
    assert previous_period(may) == month_period(2026, 4)
    assert previous_period(month_period(2026, 1)) == month_period(2025, 12)
    assert month_period(2024, 2).last == date(2024, 2, 29)
    q2 = quarter_period(2026, 2)
    assert (q2.first, q2.last, q2.value, q2.slug) == (date(2026, 4, 1), date(2026, 6, 30), "2026-Q2", "2026-q2")
    assert q2.label == "April to June 2026 (2026 Q2)"
    assert previous_period(quarter_period(2026, 1)) == quarter_period(2025, 4)
    assert quarter_period(2025, 4).last == date(2025, 12, 31)
    assert q2.query() == {"period": "quarter", "quarter": "2026-Q2"}
    # The trend: the 12 months ending with the period's last month
    assert trend_start(may) == date(2025, 6, 1) and trend_start(q2) == date(2025, 7, 1)


def test_the_default_is_the_last_whole_period_before_today():
    assert default_period("month", TODAY) == month_period(2026, 5)
    assert default_period("quarter", TODAY) == quarter_period(2026, 1)
    assert default_period("month", date(2026, 1, 1)) == month_period(2025, 12)
    assert period_from_query({}, today=TODAY) == (month_period(2026, 5), {})
    assert period_from_query({"period": "quarter"}, today=TODAY) == (quarter_period(2026, 1), {})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"period": "month", "month": "2025-11"}, month_period(2025, 11)),
        ({"period": "month", "month": "2026-6"}, month_period(2026, 6)),  # this month so far
        ({"period": "quarter", "quarter": "2026-Q2"}, quarter_period(2026, 2)),
        ({"period": "quarter", "quarter": " 2025q4 "}, quarter_period(2025, 4)),
        ({"quarter": "2025-Q3"}, quarter_period(2025, 3)),  # a lone quarter means a quarter
        ({"period": "month", "month": "2026-03", "quarter": "2025-Q1"}, month_period(2026, 3)),
    ],
)
def test_good_periods(params, expected):
    assert period_from_query(params, today=TODAY) == (expected, {})


@pytest.mark.parametrize(
    ("params", "field", "message", "fallback"),
    [
        ({"period": "week"}, "period", "Period must be month or quarter", month_period(2026, 5)),
        ({"period": "month", "month": "2026-13"}, "month", "Month must be a month as YYYY-MM", month_period(2026, 5)),
        ({"period": "month", "month": "May 2026"}, "month", "Month must be a month as YYYY-MM", month_period(2026, 5)),
        ({"period": "month", "month": "0000-01"}, "month", "Month must be a month as YYYY-MM", month_period(2026, 5)),
        ({"period": "month", "month": "٢٠٢٦-05"}, "month", "Month must be a month as YYYY-MM", month_period(2026, 5)),
        (
            {"period": "month", "month": "2026-07"},
            "month",
            "Month must be this month or earlier",
            month_period(2026, 5),
        ),
        (
            {"period": "quarter", "quarter": "2026-Q5"},
            "quarter",
            "Quarter must be a quarter as YYYY-Qn",
            quarter_period(2026, 1),
        ),
        (
            {"period": "quarter", "quarter": "2026-Q3"},
            "quarter",
            "Quarter must be this quarter or earlier",
            quarter_period(2026, 1),
        ),
        (
            {"period": "quarter", "quarter": "9" * 40},
            "quarter",
            "Quarter must be a quarter as YYYY-Qn",
            quarter_period(2026, 1),
        ),
    ],
)
def test_bad_periods_are_named_and_the_default_used(params, field, message, fallback):
    period, errors = period_from_query(params, today=TODAY)
    assert period == fallback
    assert list(errors) == [field] and errors[field].startswith(message)


def test_parsers_reject_what_is_not_a_period():
    assert parse_month("2026-05") == month_period(2026, 5)
    for bad in ("2026-00", "2026-5-1", "26-05", "2026/05", "", "1900-12"):
        assert parse_month(bad) is None, bad
    assert parse_quarter("2026-q1") == quarter_period(2026, 1)
    for bad in ("2026-Q0", "2026 Q1", "Q1-2026", "2026-1"):
        assert parse_quarter(bad) is None, bad


# --- The measures the summary speaks about (pure) --------------------------------------------------------------


INADEQUATE_TARGET = Target(
    key="inadequate_at_most_10",
    label="No more than 10% Inadequate",
    source="Plan",
    grade="inadequate",
    target=0.1,
    at_most=True,
)
CHRONOLOGY_TARGET = Target(
    key="chronology_90",
    label="90% chronologies",
    source="Plan",
    question="case_file_audit.chronology_up_to_date",
    target=0.9,
)


def _report(*, section: Counts, targets: list[Target]):
    grades = GradeCounts(
        overall=tally([("outstanding", 2), ("good", 6), ("inadequate", 2), (None, 3)]), by_service_area=[], by_team=[]
    )
    compliance = ComplianceReport(
        questions=[
            QuestionCompliance(
                template_key="case_file_audit",
                section_key="history",
                section_title="B. History",
                question_key="chronology_up_to_date",
                label="Chronology up to date?",
                counts=section,
            )
        ],
        sections=[
            SectionCompliance(
                template_key="case_file_audit", section_key="history", section_title="B. History", counts=section
            )
        ],
        frame_size=None,
        audits=13,
    )
    return assemble(
        ReportFilter(date_from=date(2026, 5, 1), date_to=date(2026, 5, 31)),
        grades=grades,
        moderation=ModerationChanges(),
        report=compliance,
        trend=Trend(months=[], questions={}),
        targets=targets,
        min_n=10,
    )


def test_measures_cover_grades_sections_and_targets_each_anchored_at_its_figure():
    report = _report(section=Counts(yes=9, no=3), targets=[CHRONOLOGY_TARGET])
    measures = {m.key: m for m in pack_measures(report)}
    assert list(measures) == [
        "grade:good_or_better",
        "grade:inadequate",
        "section:case_file_audit:B. History",
        "target:chronology_90",
    ]
    good = measures["grade:good_or_better"]
    assert (good.rate.yes, good.rate.n, good.anchor) == (8, 10, GRADES_ANCHOR)  # of the graded audits only
    assert good.label == "The share of graded audits Good or better"
    assert (measures["grade:inadequate"].rate.yes, measures["grade:inadequate"].anchor) == (2, GRADES_ANCHOR)
    section = measures["section:case_file_audit:B. History"]
    assert (section.rate.yes, section.rate.n, section.anchor) == (9, 12, SECTIONS_ANCHOR)
    assert section.label == "Compliance in “B. History” (case_file_audit)"
    target = measures["target:chronology_90"]
    assert (target.rate.yes, target.rate.n, target.anchor) == (9, 12, "target-chronology_90")
    assert (
        target.label == "Against the target “90% chronologies”, yes answers to “Chronology up to date?” "
        "(case_file_audit)"
    )


def test_a_grade_with_a_target_is_spoken_of_once_and_too_few_sections_point_at_what_the_page_says():
    report = _report(section=Counts(yes=3, no=1), targets=[INADEQUATE_TARGET])
    measures = {m.key: m for m in pack_measures(report)}
    assert "grade:inadequate" not in measures
    assert measures["target:inadequate_at_most_10"].anchor == "target-inadequate_at_most_10"
    assert measures["target:inadequate_at_most_10"].rate == rate(2, 8)
    assert measures["section:case_file_audit:B. History"].anchor == SECTIONS_TOO_FEW_ANCHOR


def test_file_name_and_description():
    may = month_period(2026, 5)
    everyone = ReportFilter()
    assert pack_filename(may, everyone, FilterNames()) == "board-pack-2026-05-all-areas.pdf"
    mine = ReportFilter(service_area_id=3, team_id=4, cycle_id=5, template_key="dip_sample", case_type="cin")
    names = FilterNames(area="Safeguarding & Early Help/../", team="North", cycle="May dip", template="Dip sample")
    assert pack_filename(quarter_period(2026, 2), mine, names) == "board-pack-2026-q2-safeguarding-early-help.pdf"
    assert pack_filename(may, mine, FilterNames()) == "board-pack-2026-05-area-3.pdf"
    assert filter_description(everyone, FilterNames()) == "All service areas."
    assert filter_description(mine, names) == (
        "Service area: Safeguarding & Early Help/../; team: North; audit "
        "cycle: May dip; template: Dip sample (dip_sample); case type: child in need."
    )


# --- The page ---------------------------------------------------------------------------------------------------


def events(db) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.execute(select(AuditEvent).where(AuditEvent.action == "report.board_pack").order_by(AuditEvent.id)).scalars()
    )


def summary_of(markup: str) -> list[tuple[str, str]]:
    """(statement, the id it links to) for each statement of the summary."""
    found = re.search(r'<ul[^>]*id="summary-statements".*?</ul>', markup, re.DOTALL)
    assert found, "no summary"
    return [
        (" ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split()), anchor)
        for item, anchor in re.findall(r'<li>(.*?href="#([^"]+)".*?)</li>', found.group(0), re.DOTALL)
    ]


def test_the_pack_for_a_month_with_its_summary_pointing_at_figures_in_the_pack(client, db, rw):
    login(client, rw.lead.username)
    response = client.get(PACK, params=MAY)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    markup = response.text
    page = text_of(markup)
    assert "<title>Board pack: May 2026, all service areas" in markup
    assert "Completed audits from 1 May 2026 to 31 May 2026, compared with April 2026. All service areas." in page
    assert "Generated on" in page and "by Rlead" in page
    # April: a2; May: a4 (inadequate) and a5 (dip sample, no grade); a3 is June in London
    assert table(markup, AT_A_GLANCE) == (
        "At a glance Figure April 2026 May 2026 Completed audits 1 2 "
        "With an overall grade 1 1 Completed after moderation 1 1"
    )
    assert table(markup, "grades-overall").endswith("All 0 (0%) 0 (0%) 0 (0%) 1 (100%) 1")
    statements = summary_of(markup)
    assert statements[0] == (
        "2 audits completed this period (1 in the previous period). (See at a glance.)",
        AT_A_GLANCE,
    )
    texts = [s for s, _ in statements]
    assert any(
        s.startswith("The share of graded audits Good or better: from 0% of 1 to 0% of 1; too few answers to tell")
        for s in texts
    )
    assert any(
        s.startswith(
            "Against the target “No more than 10% of audits Inadequate”, graded audits graded "
            "Inadequate: from 0% of 1 to 100% of 1"
        )
        for s in texts
    )
    assert any(s.startswith("Compliance in “Compliance checklist” (dip_sample): 0% of 1 this period") for s in texts)
    # Every statement points at a figure that is in the pack.
    for statement, anchor in statements:
        assert f'id="{anchor}"' in markup, (statement, anchor)
    assert {a for _, a in statements} >= {AT_A_GLANCE, GRADES_ANCHOR, "target-inadequate_at_most_10"}
    # The figures behind the sentences, both periods
    assert (
        "Against the target “No more than 10% of audits Inadequate”, graded audits graded Inadequate 0% of 1"
        in table(markup, "since-last-period")
    )
    # Charts, targets, the 12-month trend and the methods note
    for figure in ('id="grade-mix-by-service-area"', 'id="targets-table"', 'id="trend-good"', 'id="methods"'):
        assert figure in markup
    assert "The trend shows the 12 months from June 2025 to May 2026." in page
    trend = table(markup, "trend-table")
    assert trend.count("2026") == 5 and "Jun 2025" in trend and "May 2026 2 1 0 0%" in trend
    for method in (
        "95% Wilson score interval",
        "finite population correction",
        "Rates from fewer than 10 yes or no answers are too few to judge",
    ):
        assert method in page
    # The form (screen only) keeps the period; the PDF is one click away
    assert 'class="app-no-print"' in markup and 'value="2026-05"' in markup
    assert 'href="/reports/board-pack.pdf?period=month&amp;month=2026-05"' in markup
    assert '<link rel="stylesheet" href="/static/board-pack.css">' in markup
    assert '<link rel="stylesheet" href="/static/paged.css">' in markup  # what every printable document shares
    css = client.get("/static/paged.css").text
    assert "@media print" in css and ".app-no-print" in css and "@page" in css
    (event,) = events(db)
    assert event.actor_id == rw.lead.id and event.entity_type == "report"
    assert event.summary == "Viewed the board pack: May 2026, all service areas"
    assert event.after == {
        "format": "html",
        "period": "2026-05",
        "service_area": None,
        "filter": {"date_from": "2026-05-01", "date_to": "2026-05-31"},
    }


def test_the_pack_names_the_question_each_target_is_measured_from(client, rw):
    login(client, rw.lead.username)
    targets = table(client.get(PACK, params=MAY).text, "targets-table")
    assert (
        "75% of return home interviews completed within 72 hours Source: Jersey improvement plan: 75% of return home "
        "interviews within 72 hours Measured from the question “Was each return home interview completed (held with "
        "the child) within 72 hours of their return?”, Dip sample compliance checklist "
        "(dip_sample.return_interview_completed_72_hours)" in targets
    )


def test_the_default_pack_is_last_month_and_the_filters_are_kept(client, db, rw):
    login(client, rw.viewer.username)
    response = client.get(PACK, params={"cycle": str(rw.cycle_b.id), "date_from": "2020-01-01"})
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Board pack: May 2026, all service areas" in page and "audit cycle: May dip sample" in page
    # cycle B: a4 and a5 in May, nothing in April; the reports page's dates play no part
    assert table(response.text, AT_A_GLANCE).startswith("At a glance Figure April 2026 May 2026 Completed audits 0 2")
    assert f'<input type="hidden" name="cycle" value="{rw.cycle_b.id}">' in response.text
    assert f'href="/reports/board-pack.pdf?period=month&amp;month=2026-05&amp;cycle={rw.cycle_b.id}"' in response.text
    (event,) = events(db)
    assert event.actor_id == rw.viewer.id and event.after["filter"]["cycle"] == str(rw.cycle_b.id)


@pytest.mark.usefixtures("iw", "rec")
def test_the_pack_has_moderation_recommendations_and_impact_in_the_pages_order(client, rw):
    login(client, rw.lead.username)
    response = client.get(PACK, params=Q2)
    assert response.status_code == 200
    markup = response.text
    page = text_of(markup)
    for heading in ("Moderation agreement", "Recommendations", "Impact"):
        assert f">{heading}</h2>" in markup, heading
    # Q2: every moderation round (a2's two, a3, a4's two); the recommendations raised from April to June (r3, r4,
    # r6, r10 of test_sections.py); the six follow-ups of test_impact.py, all completed in June
    assert "5 20% (1 of 5) 0.36" in table(markup, "moderation-agreement-table")
    assert "Raised in the period 4" in table(markup, "recommendations-table")
    assert "6 follow-up audits in this selection" in page
    assert table(markup, "impact-recommendations").startswith("3 recommendations of 7 closed before the follow-up")
    order = [
        'id="grades-overall"',
        'id="compliance"',
        'id="moderation-agreement"',
        'id="recommendations"',
        'id="trend-table"',
        'id="impact"',
        'id="targets-table"',
    ]
    assert [markup.index(i) for i in order] == sorted(markup.index(i) for i in order)
    assert "Kappa is 1 when the two always agree" in text_of(markup[markup.index('id="methods"') :])


@pytest.mark.usefixtures("iw", "rec")
def test_the_sections_standalone_have_no_links_or_downloads(client, db, settings, rw):
    """As the PDF renders them: `standalone`, and no signed-in user in the context."""
    flt = report_filter_from_query({"date_from": "2026-04-01", "date_to": "2026-06-30"}, user=rw.lead, today=TODAY)
    report = build_report(db, flt, settings=settings)
    env = client.app.state.templates.env
    for partial in ("_moderation.html", "_recommendations.html", "_impact.html"):
        template = env.get_template(f"reports/{partial}")
        standalone = template.render(report=report, standalone=True)
        assert "href=" not in standalone and "Download this table" not in standalone, partial
        assert "<table" in standalone, partial
        on_page = template.render(report=report, current_user=rw.lead)
        assert "Download this table" in on_page, partial
    recommendations = env.get_template("reports/_recommendations.html")
    assert 'href="/recommendations?' in recommendations.render(report=report, current_user=rw.lead)
    assert "Raised in the period 4" in text_of(recommendations.render(report=report, standalone=True))


def test_a_quarter_with_no_audits_still_makes_a_pack(client, rw):
    login(client, rw.lead.username)
    response = client.get(PACK, params={"period": "quarter", "quarter": "2025-Q3"})
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Board pack: July to September 2025 (2025 Q3), all service areas" in page
    assert "No completed audits in July to September 2025 (2025 Q3)" in page
    statements = summary_of(response.text)
    assert statements == [
        ("0 audits completed this period (0 in the previous period). (See at a glance.)", AT_A_GLANCE)
    ]
    assert 'id="grades-overall"' not in response.text


def test_bad_values_are_named_never_a_500(client, db, rw):
    login(client, rw.lead.username)
    response = client.get(PACK, params={"period": "week", "month": "2026-13", "case_type": "bogus"})
    assert response.status_code == 200
    page = text_of(response.text)
    assert "There is a problem" in page and "<title>Error: Board pack: May 2026" in response.text
    for message, field in (
        ("Period must be month or quarter", "period"),
        ("Month must be a month as YYYY-MM", "month"),
        ("Case type must be one of", "case_type"),
    ):
        assert message in page and f'href="#{field}"' in response.text
    assert 'value="2026-13"' in response.text  # what was typed, to correct
    # A PDF is not made of some other period than the one asked for: the page says what was wrong.
    response = client.get(PDF, params={"period": "quarter", "quarter": "2026-Q9"})
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    assert "Quarter must be a quarter as YYYY-Qn" in text_of(response.text)
    assert [e.after["format"] for e in events(db)] == ["html", "html"]


# --- The PDF ----------------------------------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_pdf_holds_the_key_figures_and_is_logged(client, db, rw):
    login(client, rw.lead.username)
    response = client.get(PDF, params={"period": "quarter", "quarter": "2026-Q2"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="board-pack-2026-q2-all-areas.pdf"'
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    # Q2: a2, a3, a4, a5, a6; Q1: a1
    chronology = rate(1, 1)  # case file audit chronology in Q2: a2 no, a3 yes, a4 n/a
    for expected in (
        "Board pack: April to June 2026 (2026 Q2), all service areas",
        "5 audits completed this period (1 in the previous period).",
        "Completed audits 1 5",
        "All 1 (33%) 0 (0%) 1 (33%) 1 (33%) 2",  # at a glance, the grades
        "Moved up 1 Moved down 1 Unchanged 1",
        f"1 1 1 50% {chronology.interval.low:.0%}–{chronology.interval.high:.0%} too few to judge",
        "No more than 10% of audits Inadequate",
        "Cannot tell",
        "Wilson",
        "Page 1 of",
    ):
        assert expected in text, expected
    assert "Confidential: personal data about a child" not in text  # the record's marking only
    # The charts are drawn (their axis labels are only in the SVG) and the screen's chrome is not there.
    assert "Grade mix by service area" in text and "40%" in text
    for chrome in ("Download as PDF", "Show the pack", "Which period?", "Sign out", "Skip to main content"):
        assert chrome not in text
    (event,) = events(db)
    assert event.actor_id == rw.lead.id and event.summary.startswith("Downloaded the board pack as a PDF")
    assert event.after["format"] == "pdf" and event.after["period"] == "2026-Q2"


@pytest.mark.usefixtures("iw", "rec")
def test_the_pdf_holds_moderation_recommendations_and_impact(client, rw):
    login(client, rw.lead.username)
    response = client.get(PDF, params=Q2)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    for expected in (
        "Moderation agreement",
        "5 20% (1 of 5) 0.36",
        "Kappa is 1 when the two always agree",
        "Raised in the period 4",
        "6 follow-up audits in this selection",
        "Improved 3 Same grade 1 Worse 1",
        "Spring deep dive 3 4 2 2 1",
        f"{NO_CYCLE} 1 1 1 0 0",
    ):
        assert expected in text, expected
    assert "Download this table" not in text and "CSV" not in text


# --- Scope and who may ------------------------------------------------------------------------------------------


def test_a_head_of_service_gets_their_own_area_only(client, db, rw):
    login(client, rw.hos.username)
    response = client.get(PACK, params={**MAY, "service_area": str(rw.care.service_area_id)})
    assert response.status_code == 200
    page = text_of(response.text)
    assert "You can see reports for your own service area only" in page
    assert "Board pack: May 2026, Safeguarding" in page
    # May in Safeguarding: a5 only (a4 is Care, in Children in care)
    assert table(response.text, AT_A_GLANCE).startswith("At a glance Figure April 2026 May 2026 Completed audits 1 1")
    assert "Children in care" not in page and "Care " not in table(response.text, "grades-by-team")
    assert 'name="service_area"' not in response.text
    response = client.get(PDF, params=MAY)
    assert response.headers["content-disposition"] == 'attachment; filename="board-pack-2026-05-safeguarding.pdf"'
    text = pdf_text(response.content)
    assert "Board pack: May 2026, Safeguarding" in text and "Children in care" not in text
    html_event, pdf_event = events(db)
    assert html_event.after["service_area"] == pdf_event.after["service_area"] == rw.north.service_area_id
    assert pdf_event.actor_id == rw.hos.id


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PRACTITIONER])
@pytest.mark.parametrize("path", [PACK, PDF])
def test_others_are_refused_and_nothing_is_logged(client, db, rw, role, path):
    user = make_user(db, username=f"other_{role.value}", roles=(role,))
    login(client, user.username)
    response = client.get(path, params=MAY)
    assert response.status_code == 403 and "Board pack" not in response.text
    assert events(db) == []


def test_a_head_of_service_without_an_area_is_refused(client, db, rw):
    user = make_user(db, username="hos_nowhere", roles=(Role.HEAD_OF_SERVICE,))
    login(client, user.username)
    assert client.get(PACK).status_code == 403
    assert events(db) == []


def test_anonymous_visitors_are_sent_to_sign_in(client, rw):
    response = client.get(PDF, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_reports_page_links_to_the_pack_with_its_filters(client, rw):
    login(client, rw.lead.username)
    response = client.get("/reports", params={"cycle": str(rw.cycle_a.id), "date_from": "2026-01-01"})
    assert f'href="/reports/board-pack?cycle={rw.cycle_a.id}">Board pack (printable page and PDF)</a>' in response.text
