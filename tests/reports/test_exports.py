"""Downloads of the reports tables (issue 8 "Exports"): CSV and XLSX with the page's figures for the hand-built
audits of tests/reports/conftest.py, every download an audit-trail event, a head of service's downloads kept to
their own area, the download links keeping the filter, and friendly refusals (404 for an unknown table or format,
403 for those who may not see reports)."""

from __future__ import annotations

import csv
import html
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.reports.filters import report_filter_from_query
from app.reports.impact import NO_CYCLE
from app.reports.tables import TABLES
from tests.factories import login, make_user, page_text
from tests.reports.conftest import TODAY
from tests.reports.test_impact import iw  # noqa: F401 - the follow-up audits' world (fixture)
from tests.reports.test_sections import rec  # noqa: F401 - the recommendations' world (fixture)

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30"}


def download(client, user, key: str, fmt: str = "csv", **params: str):
    login(client, user.username)
    return client.get(f"/reports/tables/{key}.{fmt}", params={**PERIOD, **params})


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response) -> tuple[str, list[tuple]]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    return sheet.title, list(sheet.iter_rows(values_only=True))


def events(db) -> list[AuditEvent]:
    return list(
        db.execute(select(AuditEvent).where(AuditEvent.action == "report.export").order_by(AuditEvent.id)).scalars()
    )


GRADES_BY_TEAM = [
    [
        "Team",
        "Outstanding",
        "Outstanding (%)",
        "Good",
        "Good (%)",
        "Requires improvement to be good",
        "Requires improvement to be good (%)",
        "Inadequate",
        "Inadequate (%)",
        "No overall grade",
    ],
    ["Care", "0", "0.0", "0", "0.0", "0", "0.0", "1", "100.0", "1"],
    ["North", "0", "0.0", "1", "50.0", "1", "50.0", "0", "0.0", "1"],
    ["South", "1", "100.0", "0", "0.0", "0", "0.0", "0", "0.0", "0"],
]


def test_csv_has_the_hand_counted_rows_and_a_dated_name(client, db, rw):
    response = download(client, rw.lead, "grades-by-team")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    today = client.app.state.settings.today().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="report-grades-by-team-{today}.csv"'
    assert csv_rows(response) == GRADES_BY_TEAM


def test_xlsx_has_the_same_rows_as_numbers(client, db, rw):
    response = download(client, rw.lead, "grades-by-team", "xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"].endswith(
        "-grades-by-team-" + client.app.state.settings.today().isoformat() + '.xlsx"'
    )
    title, rows = xlsx_rows(response)
    assert title == "Grades by team"
    assert rows == [
        tuple(GRADES_BY_TEAM[0]),
        ("Care", 0, 0, 0, 0, 0, 0, 1, 100, 1),
        ("North", 0, 0, 1, 50, 1, 50, 0, 0, 1),
        ("South", 1, 100, 0, 0, 0, 0, 0, 0, 0),
    ]
    assert all(isinstance(v, int | float) for row in rows[1:] for v in row[1:])  # numbers a spreadsheet can sum


def test_blank_rates_are_blank_cells(client, db, rw):
    response = download(client, rw.lead, "monthly-trend", "xlsx")
    _, rows = xlsx_rows(response)
    assert rows[0] == (
        "Month",
        "Completed audits",
        "Graded",
        "Good or better",
        "Rate (%)",
        "95% interval low (%)",
        "95% interval high (%)",
        "Note",
    )
    january, march = rows[1], rows[3]
    assert january == ("Jan 2026", 0, 0, 0, None, None, None, "no graded audits")
    assert march[:5] == ("Mar 2026", 1, 1, 1, 100) and march[-1] == "too few to judge"
    assert csv_rows(download(client, rw.lead, "monthly-trend"))[1] == [
        "Jan 2026",
        "0",
        "0",
        "0",
        "",
        "",
        "",
        "no graded audits",
    ]


def world_for(request, key: str) -> None:
    """The recommendations and follow-up audits beside `rw`, for the tables that would have no rows without them."""
    if key.startswith("impact-"):
        request.getfixturevalue("iw")
    if key.startswith("recommendation"):
        request.getfixturevalue("rec")


@pytest.mark.parametrize("key", list(TABLES))
def test_every_table_downloads_in_both_formats_with_the_same_rows(client, db, rw, key, request):
    world_for(request, key)
    as_csv, as_xlsx = download(client, rw.lead, key), download(client, rw.lead, key, "xlsx")
    assert as_csv.status_code == 200 and as_xlsx.status_code == 200
    from_csv = csv_rows(as_csv)
    _, from_xlsx = xlsx_rows(as_xlsx)
    assert len(from_csv) == len(from_xlsx) > 1  # the headers and this world's rows
    as_text = [["" if v is None else str(v) for v in row] for row in from_xlsx]
    assert [[_numeric(v) for v in row] for row in from_csv] == [[_numeric(v) for v in row] for row in as_text]
    made = [e for e in events(db) if e.after["table"] == key]
    assert [e.after["format"] for e in made] == ["csv", "xlsx"]
    assert all(e.after["rows"] == len(from_csv) - 1 for e in made)


def _numeric(value: str) -> object:
    """100 and 100.0 are the same number: XLSX keeps 100.0 as 100."""
    try:
        return float(value)
    except ValueError:
        return value


def shown_table(page: str, table_id: str) -> str:
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.DOTALL)
    assert found, f"no table {table_id} on the page"
    return page_text(found.group(0))


def test_csv_matches_the_page(client, db, rw):
    """The page shows "1 (50%)"; the download the same count and percentage as numbers."""
    login(client, rw.lead.username)
    page = client.get("/reports", params=PERIOD).text
    page_table = shown_table(page, "grades-by-team")
    for name, *cells, ungraded in GRADES_BY_TEAM[1:]:
        pairs = [f"{cells[i]} ({float(cells[i + 1]):.0f}%)" for i in range(0, len(cells), 2)]
        assert f"{name} {' '.join(pairs)} {ungraded}" in page_table
    trend = shown_table(page, "trend-table")
    for month, audits, graded, good, rate_, *_ in csv_rows(download(client, rw.lead, "monthly-trend"))[1:]:
        shown_rate = f"{float(rate_):.0f}%" if rate_ else "No data"
        assert f"{month} {audits} {graded} {good} {shown_rate}" in trend


IMPACT_RECOMMENDATIONS = [
    [
        "Cycle of the earlier audit",
        "Follow-up audits",
        "Recommendations raised",
        "Closed before the follow-up",
        "Not closed before it",
        "Of which still outstanding",
    ],
    ["Spring deep dive", "3", "4", "2", "2", "1"],
    ["May dip sample", "1", "1", "0", "1", "1"],
    ["Summer follow-up", "1", "1", "0", "1", "0"],
    [NO_CYCLE, "1", "1", "1", "0", "0"],
]


@pytest.mark.usefixtures("iw")
def test_impact_recommendations_round_trip_as_on_the_page(client, db, rw):
    as_csv = download(client, rw.lead, "impact-recommendations")
    assert as_csv.status_code == 200 and csv_rows(as_csv) == IMPACT_RECOMMENDATIONS
    title, rows = xlsx_rows(download(client, rw.lead, "impact-recommendations", "xlsx"))
    assert title == "Impact recommendations"
    assert rows == [
        tuple(IMPACT_RECOMMENDATIONS[0]),
        *[(name, *map(int, cells)) for name, *cells in IMPACT_RECOMMENDATIONS[1:]],
    ]
    shown = shown_table(client.get("/reports", params=PERIOD).text, "impact-recommendations")
    for row in IMPACT_RECOMMENDATIONS[1:]:
        assert " ".join(row) in shown
    # a head of service: Safeguarding's follow-ups only (a4 -> f4, of the May dip sample, is Children in care)
    mine = csv_rows(download(client, rw.hos, "impact-recommendations"))
    assert [row[0] for row in mine[1:]] == ["Spring deep dive", "Summer follow-up", NO_CYCLE]


def test_moderation_agreement_round_trip(client, db, rw):
    as_csv = csv_rows(download(client, rw.lead, "moderation-agreement"))
    assert as_csv[0][:5] == [
        "Graded moderation rounds",
        "Pairs of grades",
        "Agreed",
        "Exact agreement (%)",
        "Weighted kappa",
    ]
    assert as_csv[1][:5] == ["5", "5", "1", "20.0", "0.364"] and as_csv[1][-1] == "too few to judge"
    _, rows = xlsx_rows(download(client, rw.lead, "moderation-agreement", "xlsx"))
    assert rows[1][:5] == (5, 5, 1, 20, 0.364) and all(isinstance(v, float) for v in rows[1][5:7])
    shown = shown_table(client.get("/reports", params=PERIOD).text, "moderation-agreement-table")
    assert "5 20% (1 of 5) 0.36" in shown and f"{float(as_csv[1][5]):.2f} to {float(as_csv[1][6]):.2f}" in shown


@pytest.mark.usefixtures("iw", "rec")
def test_every_table_on_the_page_has_its_download_links(client, db, rw):
    login(client, rw.lead.username)
    page = client.get("/reports", params={**PERIOD, "case_type": "cin"}).text
    for key in TABLES:
        found = re.search(rf'<p[^>]*id="download-{key}".*?</p>', page, re.DOTALL)
        assert found, key
        hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', found.group(0))]
        query = "date_from=2026-01-01&date_to=2026-06-30&case_type=cin"
        assert hrefs == [f"/reports/tables/{key}.csv?{query}", f"/reports/tables/{key}.xlsx?{query}"], key
    # and no link on the page names a table that is not there to download
    missing = set(re.findall(r'id="download-([a-z0-9-]+)"', page)) - set(TABLES)
    assert not missing, f"download links to tables with no builder in app/reports/tables.py: {sorted(missing)}"


def test_each_download_is_in_the_trail_with_who_and_what(client, db, rw):
    assert download(client, rw.lead, "grades-by-team", case_type="cin").status_code == 200
    assert download(client, rw.viewer, "targets", "xlsx").status_code == 200
    lead_event, viewer_event = events(db)
    assert (lead_event.actor_id, lead_event.actor_label) == (rw.lead.id, rw.lead.username)
    assert (lead_event.entity_type, lead_event.entity_id) == ("report", "grades-by-team")
    assert lead_event.after == {
        "table": "grades-by-team",
        "format": "csv",
        "rows": 2,  # North and South (cin)
        "filter": {**PERIOD, "case_type": "cin"},
    }
    assert lead_event.summary == "Exported the report table grades-by-team as CSV (2 rows)"
    assert viewer_event.actor_id == rw.viewer.id
    assert viewer_event.after["table"] == "targets" and viewer_event.after["format"] == "xlsx"
    # ids, dates and counts only: no team, area or person named
    for event in (lead_event, viewer_event):
        text = f"{event.summary} {event.after}"
        assert "North" not in text and "Safeguarding" not in text and rw.lead.full_name not in text


def test_head_of_service_downloads_only_their_area(client, db, rw):
    # asking for another area is not obeyed: the head of service stays in Safeguarding
    by_area = download(client, rw.hos, "grades-by-service-area", service_area=str(rw.care.service_area_id))
    assert by_area.status_code == 200
    assert [row[0] for row in csv_rows(by_area)[1:]] == ["Safeguarding"]
    _, by_team = xlsx_rows(download(client, rw.hos, "grades-by-team", "xlsx"))
    assert [row[0] for row in by_team[1:]] == ["North", "South"]
    assert "Care" not in by_area.text and "Children in care" not in by_area.text
    overall = csv_rows(download(client, rw.hos, "grades-overall"))
    assert overall[1][-1] == "1" and overall[1][1::2][:4] == ["1", "1", "1", "0"]  # a1, a2, a3; a5 ungraded
    first = events(db)[0]
    assert first.actor_id == rw.hos.id and first.after["scope_service_area"] == rw.north.service_area_id
    assert "service_area" not in first.after["filter"]


def test_viewer_may_download(client, db, rw):
    response = download(client, rw.viewer, "compliance-by-question")
    assert response.status_code == 200 and len(csv_rows(response)) > 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PRACTITIONER])
def test_others_may_not_download(client, db, rw, role):
    user = make_user(db, username=f"dl_{role.value}", roles=(role,))
    for fmt in ("csv", "xlsx"):
        response = download(client, user, "grades-overall", fmt)
        assert response.status_code == 403 and "You need the" in page_text(response.text)
        assert "Outstanding" not in response.text
    assert events(db) == []


def test_head_of_service_without_an_area_may_not_download(client, db, rw):
    user = make_user(db, username="dl_hos_no_area", roles=(Role.HEAD_OF_SERVICE,))
    response = download(client, user, "grades-overall")
    assert response.status_code == 403 and events(db) == []


def test_signed_out_is_sent_to_sign_in(client, rw):
    response = client.get("/reports/tables/grades-overall.csv", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/reports/tables/")


@pytest.mark.parametrize(
    "path",
    [
        "/reports/tables/no-such-table.csv",
        "/reports/tables/GRADES-OVERALL.xlsx",
        "/reports/tables/grades-overall.pdf",
        "/reports/tables/grades-overall",
        "/reports/tables/%2e%2e%2fgrades-overall.csv",
        "/reports/tables/.csv",
        "/reports/tables/grades-overall.csv.xlsx",
    ],
)
def test_unknown_table_or_format_is_a_friendly_404(client, db, rw, path):
    login(client, rw.lead.username)
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html") and "Page not found" in page_text(response.text)
    assert events(db) == []


def test_bad_filter_values_do_not_break_a_download(client, db, rw):
    response = download(client, rw.lead, "grades-overall", case_type="martian", date_from="2026-13-01", team="x")
    assert response.status_code == 200
    used = events(db)[0].after["filter"]
    assert "case_type" not in used and "team" not in used and used["date_from"] != "2026-13-01"


def test_an_empty_selection_downloads_the_headers(client, db, rw):
    response = download(client, rw.lead, "compliance-by-question", date_from="2020-01-01", date_to="2020-12-31")
    assert response.status_code == 200 and len(csv_rows(response)) == 1
    assert events(db)[0].after["rows"] == 0


# --- The download links --------------------------------------------------------------------------------------


def render_downloads(client, key: str, flt, title=None) -> str:
    env = client.app.state.templates.env
    source = '{% from "reports/_downloads.html" import downloads %}{{ downloads(key, flt, title) }}'
    return env.from_string(source).render(key=key, flt=flt, title=title)


def test_download_links_keep_the_filter_and_name_the_table(client, db, rw):
    flt = report_filter_from_query({**PERIOD, "case_type": "cin", "team": str(rw.north.id)}, user=rw.lead, today=TODAY)
    markup = render_downloads(client, "grades-by-team", flt)
    text = page_text(markup).replace(" ,", ",")
    assert (
        "Download this table: CSV file of the grades by team table, Excel (XLSX) workbook of the grades by team "
        "table" in text
    )
    assert 'class="govuk-visually-hidden"' in markup
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', markup)]
    query = f"date_from=2026-01-01&date_to=2026-06-30&team={rw.north.id}&case_type=cin"
    assert hrefs == [f"/reports/tables/grades-by-team.csv?{query}", f"/reports/tables/grades-by-team.xlsx?{query}"]
    assert "&amp;" in markup  # escaped in the attribute
    login(client, rw.lead.username)
    for href in hrefs:
        assert client.get(href).status_code == 200
    assert [e.after["filter"] for e in events(db)] == [flt.query(), flt.query()]
    assert "Compliance by question table" in page_text(
        render_downloads(client, "compliance-by-question", flt, "Compliance by question")
    )


def test_every_table_has_working_download_links(client, db, rw):
    flt = report_filter_from_query({}, user=rw.hos, today=TODAY)
    login(client, rw.hos.username)
    for key in TABLES:
        hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', render_downloads(client, key, flt))]
        assert len(hrefs) == 2 and "service_area" not in hrefs[0]  # the head of service's area is not in the link
        assert all(client.get(href).status_code == 200 for href in hrefs)
