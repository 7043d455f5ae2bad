"""The reports page (issue 8), on the hand-built audits of tests/reports/conftest.py: figures as counted by hand,
scope by role, bad filter values named, the empty state and "too few to judge"."""

from __future__ import annotations

import re

import pytest

from app.accounts.roles import Role
from app.reports.figures import Counts
from app.reports.report import RateRow, _section_chart
from app.reports.stats import rate
from tests.factories import login, make_user, page_text
from tests.reports.conftest import FRAME_SIZE

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30"}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def table(html: str, table_id: str) -> str:
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL)
    assert found, f"no table {table_id}"
    return text_of(found.group(0))


def get(client, user, **params):
    login(client, user.username)
    return client.get("/reports", params={**PERIOD, **params})


def test_qa_lead_sees_the_hand_counted_figures(client, rw):
    response = get(client, rw.lead)
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Completed audits 6" in page and "With an overall grade 4" in page
    assert " None " not in page and "Undefined" not in page
    # a1 good, a2 RI, a3 outstanding, a4 inadequate; a5 and a6 (dip sample) have no overall grade
    assert table(response.text, "grades-overall") == (
        "All selected audits Selection Outstanding Good Requires improvement to be good Inadequate No overall grade "
        "All 1 (25%) 1 (25%) 1 (25%) 1 (25%) 2"
    )
    by_area = table(response.text, "grades-by-area")
    assert "Children in care 0 (0%) 0 (0%) 0 (0%) 1 (100%) 1" in by_area
    assert "Safeguarding 1 (33%) 1 (33%) 1 (33%) 0 (0%) 1" in by_area
    assert "North 0 (0%) 1 (50%) 1 (50%) 0 (0%) 1" in table(response.text, "grades-by-team")
    assert 'id="grade-mix-by-service-area"' in response.text  # the grade mix chart, by area for every area
    # a2 good -> RI (down), a3 good -> outstanding (up), a4 inadequate -> inadequate (same)
    moderation = table(response.text, "moderation-changes")
    assert "3 audits completed after moderation" in moderation
    assert "Moved up 1 Moved down 1 Unchanged 1" in moderation
    # case file audit chronology: a1 yes, a2 no, a3 yes, a4 n/a
    questions = table(response.text, "compliance-questions")
    chronology = rate(2, 1)
    low, high = round(chronology.interval.low * 100), round(chronology.interval.high * 100)
    assert re.search(
        rf"Is there a chronology on file[^|]*?case_file_audit: B\. History and chronology 2 1 1 67% "
        rf"{low}%–{high}% too few to judge",
        questions,
    )
    assert "corrected for a frame" not in page  # several samples and none: no correction
    # trend: March to June, one graded audit in each of March, April, June (a3 is June in London), one in May
    trend = table(response.text, "trend-table")
    assert "Mar 2026 1 1 1 100%" in trend and "Apr 2026 1 1 0 0%" in trend
    assert "May 2026 2 1 0 0%" in trend and "Jun 2026 2 1 1 100%" in trend
    # targets: 1 of 4 graded audits inadequate, too few to judge
    targets = table(response.text, "targets-table")
    assert "No more than 10% of audits Inadequate" in targets and "Source: Improvement plan" in targets
    assert re.search(r"Graded audits graded Inadequate 4 25% \d+%–\d+% Cannot tell too few to judge", targets)


def test_one_sample_is_corrected_for_its_frame(client, rw):
    response = get(client, rw.lead, cycle=str(rw.cycle_a.id))
    page = text_of(response.text)
    assert "Completed audits 3" in page
    assert f"corrected for a frame of {FRAME_SIZE}" in page
    assert f"intervals are corrected for 3 of a frame of {FRAME_SIZE} cases" in page  # cases sampled, not answers
    # the method, in words, beside the figures
    assert "How these figures are worked out" in page
    assert "What is sampled is the case" in page and "Korn and Graubard" in page


def test_too_few_to_judge_is_never_drawn_as_a_bar(client, rw):
    response = get(client, rw.lead)
    assert 'id="compliance-sections"' not in response.text  # every section has n < 10: no bars at all
    assert "too few to judge, so no section is drawn" in text_of(response.text)


def test_section_chart_leaves_too_few_out_of_the_bars():
    enough = RateRow(template_key="t", label="Enough", counts=Counts(yes=9, no=3), rate=rate(9, 3))
    few = RateRow(template_key="t", label="Few", counts=Counts(yes=3, no=0), rate=rate(3, 0))
    chart = _section_chart([enough, few])
    drawn = [el for el in chart.elements if getattr(el, "kind", "") == "rect"]
    assert len(drawn) == 1 and drawn[0].title.startswith("Enough (t)")
    assert [row[-1].text for row in chart.table.rows] == ["", "too few to judge"]
    assert chart.table.rows[1][1].text == "No data"


def test_head_of_service_sees_their_own_area_only(client, rw):
    response = get(client, rw.hos)
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Completed audits 4" in page  # a1, a2, a3, a5: Safeguarding
    assert "Children in care" not in table(response.text, "grades-by-area")
    assert 'name="service_area"' not in response.text  # the area filter is not offered
    assert 'id="grades-by-team"' in response.text


def test_head_of_service_asking_for_another_area_is_told_and_kept_to_theirs(client, rw):
    response = get(client, rw.hos, service_area=str(rw.care.service_area_id))
    assert response.status_code == 200
    page = text_of(response.text)
    assert "There is a problem" in page and "You can see reports for your own service area only" in page
    assert "Completed audits 4" in page and "Children in care" not in table(response.text, "grades-by-area")


def test_viewer_may_see_reports(client, rw):
    response = get(client, rw.viewer)
    assert response.status_code == 200 and "Completed audits 6" in text_of(response.text)


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.AUDITOR])
def test_others_are_refused(client, db, rw, role):
    user = make_user(db, username=f"other_{role.value}", roles=(role,))
    response = get(client, user)
    assert response.status_code == 403
    assert "Completed audits" not in response.text


def test_bad_filter_value_is_named(client, rw):
    response = get(client, rw.lead, case_type="bogus", date_from="2026-13-01")
    page = text_of(response.text)
    assert response.status_code == 200 and "There is a problem" in page
    assert "Case type must be one of" in page and "Enter a real date as YYYY-MM-DD" in page
    assert response.text.count('href="#case_type"') == 1
    assert "Error: Reports" in response.text


def test_empty_state_when_nothing_matches(client, rw):
    response = get(client, rw.lead, date_from="2020-01-01", date_to="2020-12-31")
    page = text_of(response.text)
    assert response.status_code == 200
    assert "No completed audits match these filters" in page and "Compliance" not in page


def test_an_unusable_targets_file_leaves_the_targets_out_not_the_report(
    client,
    rw,
    monkeypatch,
    tmp_path,
    caplog,
):
    broken = tmp_path / "targets.yaml"
    broken.write_text("targets: [")
    monkeypatch.setattr(client.app.state.settings, "report_targets_file", broken)
    response = get(client, rw.lead)
    assert response.status_code == 200
    assert "The targets file could not be read" in page_text(response.text)
    assert any("report targets not shown" in r.getMessage() for r in caplog.records)


def test_an_id_that_names_nothing_is_named_and_left_out(client, rw):
    response = get(client, rw.lead, team="99999", cycle="88888", service_area="77777")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "There is no team number 99999" in page and "There is no cycle number 88888" in page
    assert "There is no service area number 77777" in page
    assert "Completed audits 6" in page  # the rest of the filter still applies


def test_a_head_of_service_naming_another_areas_team_sees_their_own_area(client, rw):
    response = get(client, rw.hos, team=str(rw.care.id))
    assert "You can see your own service area&#39;s teams only" in response.text
    assert "Care" not in table(response.text, "grades-by-team")
