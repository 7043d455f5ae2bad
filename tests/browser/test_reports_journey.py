"""Issue 8 in the browser, on the demo's year of completed audits.

The QA lead opens the reports from the navigation, filters them to one quarter's case file audit cycle, opens a
chart's table of the data, follows a grade count to the audits behind it, comes back, downloads a table as CSV,
and opens the board pack for last month, follows its summary to the figure behind it and downloads it as a PDF.
A head of service sees their own service area only, and a figure's audits with no link to an audit (nor its case
reference) except the ones they audited themselves (Harriet Osei is an auditor too in the demo). The three readers'
pages open from the navigation and refuse a bad date. Every page is checked with axe.

Expected figures come from the live server's database, counted here from the audits' rows (not through the
report code), so the page is checked against what was stored.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, timedelta

import pypdf
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team, User
from app.audit_templates.schema import GRADE_LABELS, Grade
from app.audits.models import Audit
from app.db import make_engine
from app.demo.generator import demo_logins
from app.reports.drill import PAGE_SIZE
from app.sampling.models import Cycle
from tests.browser.conftest import LiveServer, NewContext
from tests.browser.helpers import check_accessibility, expect_error_summary, service_nav, sign_in

pytestmark = pytest.mark.browser

LOGINS = {u.username: u for u in demo_logins()}
QA_LEAD, HEAD_OF_SERVICE = LOGINS["qa.lead"], LOGINS["hos"]
HOS_AREA = "Safeguarding"  # Harriet Osei heads it in the demo department


@contextmanager
def _database(live_server: LiveServer) -> Iterator[Session]:
    """A session on the live server's own database (what is committed there is what the app shows)."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _month_first(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class CycleFigures:
    """One cycle's completed audits as stored: how many, by local month of completion and by final grade."""

    id: int
    title: str
    audits: int
    by_month: Counter[date]  # the month's first day -> audits completed in it
    by_grade: dict[str, list[int]]  # final grade (or "none") -> audit ids


def _case_file_audit_cycle(live_server: LiveServer, month: date) -> CycleFigures:
    """The demo's quarterly case file audit cycle that `month` is in, counted from its audits' rows."""
    with _database(live_server) as session:
        cycle = (
            session.execute(
                select(Cycle).where(
                    Cycle.template_key == "case_file_audit", Cycle.start_date <= month, Cycle.due_date >= month
                )
            )
            .scalars()
            .first()
        )
        assert cycle is not None and cycle.id is not None, f"no case file audit cycle in the demo for {month:%B %Y}"
        rows = session.execute(
            select(Audit.id, Audit.completed_at, Audit.final_grade).where(
                Audit.cycle_id == cycle.id, Audit.status == "completed"
            )
        ).all()
    by_month: Counter[date] = Counter()
    by_grade: dict[str, list[int]] = {}
    for audit_id, completed_at, grade in rows:
        at = completed_at if completed_at.tzinfo else completed_at.replace(tzinfo=UTC)  # SQLite keeps UTC naive
        by_month[_month_first(at.astimezone(live_server.settings.tz).date())] += 1
        by_grade.setdefault(grade or "none", []).append(audit_id)
    return CycleFigures(id=cycle.id, title=cycle.title, audits=len(rows), by_month=by_month, by_grade=by_grade)


def _glance(page: Page, key: str):
    """The value of a row of the "At a glance" summary card."""
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    )
    return row.locator(".govuk-summary-list__value")


def _drill_rows(page: Page) -> list[tuple[int, bool, str]]:
    """The audits behind a figure as listed: (audit number, whether it is a link, final grade) per row."""
    found = []
    for row in page.locator("#audits-table tbody tr").all():
        number = row.locator("th")
        digits = re.search(r"\d+", number.inner_text())
        assert digits, number.inner_text()
        found.append(
            (int(digits.group()), number.get_by_role("link").count() == 1, row.locator("td").last.inner_text().strip())
        )
    return found


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("username", ["qa.lead", "hos", "viewer"])
def test_reports_page_opens_from_the_navigation_and_refuses_a_bad_date(new_context: NewContext, username: str) -> None:
    person = LOGINS[username]
    page = new_context().new_page()
    sign_in(page, person.username, person.full_name)
    service_nav(page).get_by_role("link", name="Reports").click()
    expect(page).to_have_url(re.compile(r"/reports$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_accessibility(page)
    expect(page.get_by_role("combobox", name="Service area")).to_have_count(0 if username == "hos" else 1)
    page.goto("/reports?date_from=2026-02-30")
    expect_error_summary(page, "Enter a real date as YYYY-MM-DD, for example 2026-06-30")
    check_accessibility(page)


def test_qa_lead_filters_to_a_cycle_follows_a_figure_to_its_audits_and_downloads_the_board_pack(
    new_context: NewContext, live_server: LiveServer
) -> None:
    today = live_server.today()
    last_month = _month_first(_month_first(today) - timedelta(days=1))  # the board pack's period by default
    month_before = _month_first(last_month - timedelta(days=1))
    cycle = _case_file_audit_cycle(live_server, last_month)
    assert cycle.by_month[last_month] > 0, "the demo completed none of the cycle's audits last month"
    page = new_context().new_page()
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)

    # 1. The reports, from the navigation: every completed audit of the last 12 months.
    service_nav(page).get_by_role("link", name="Reports").click()
    expect(page).to_have_url(re.compile(r"/reports$"))
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    check_accessibility(page)
    everything = int(_glance(page, "Completed audits").inner_text().replace(",", ""))
    assert everything > cycle.audits

    # 2. Filtered to the cycle: the page counts that cycle's audits, and says so in its filter.
    page.get_by_label("Audit cycle").select_option(label=cycle.title)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"/reports\?.*\bcycle={cycle.id}\b"))
    expect(page.get_by_label("Audit cycle")).to_have_value(str(cycle.id))
    expect(_glance(page, "Completed audits")).to_have_text(f"{cycle.audits:,}")
    graded = sum(len(ids) for grade, ids in cycle.by_grade.items() if grade != "none")
    expect(_glance(page, "With an overall grade")).to_have_text(f"{graded:,}")
    check_accessibility(page)

    # 3. A chart's table of the data, closed until asked for: audits completed month by month.
    table = page.get_by_role("table", name="Completed audits by month", exact=True)
    expect(table).to_be_hidden()
    page.get_by_text("Table of the data: Completed audits by month", exact=True).click()
    expect(table).to_be_visible()
    month_row = table.locator("tbody tr").filter(
        has=page.locator("th", has_text=re.compile(rf"^\s*{last_month:%b %Y}\s*$"))
    )
    expect(month_row.locator("td")).to_have_text([str(cycle.by_month[last_month])])
    counts = [int(text.replace(",", "")) for text in table.locator("tbody td").all_inner_texts()]
    assert sum(counts) == cycle.audits
    check_accessibility(page)  # with the table open

    # 4. The most common grade's count, followed to the audits behind it.
    grade = max((g for g in cycle.by_grade if g != "none"), key=lambda g: len(cycle.by_grade[g]))
    label, expected = GRADE_LABELS[Grade(grade)], sorted(cycle.by_grade[grade])
    assert len(expected) <= PAGE_SIZE  # one page of them
    link = page.locator("#grades-overall").get_by_role(
        "link", name=f"{len(expected)} audits graded {label}", exact=True
    )
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/reports/audits\?"))
    expect(page.get_by_role("heading", name="Audits behind a figure")).to_be_visible()
    expect(page.locator("#audits-what")).to_contain_text(f"graded {label}")
    expect(page.locator("#audits-what")).to_contain_text(f"cycle “{cycle.title}”")
    expect(page.locator("#audits-count")).to_have_text(f"{len(expected)} audits, most recently completed first")
    listed = _drill_rows(page)
    assert sorted(number for number, _, _ in listed) == expected
    assert {shown for _, _, shown in listed} == {label}
    assert all(linked for _, linked, _ in listed)  # the QA lead may open every audit
    check_accessibility(page)

    # 5. Back to the report, still filtered; one of its tables as CSV.
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/reports\?.*\bcycle={cycle.id}\b"))
    expect(_glance(page, "Completed audits")).to_have_text(f"{cycle.audits:,}")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV file of the grades of all selected audits table").click()
    assert re.fullmatch(r"report-grades-overall-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["Selection"] == "All"
    for g in Grade:
        assert rows[0][GRADE_LABELS[g]] == str(len(cycle.by_grade.get(g.value, []))), (g, rows[0])
    assert rows[0]["No overall grade"] == str(len(cycle.by_grade.get("none", [])))

    # 6. The board pack, for last month and the same cycle: the summary points at the figure it comes from.
    page.get_by_role("link", name="Board pack (printable page and PDF)").click()
    expect(page).to_have_url(re.compile(rf"/reports/board-pack\?.*\bcycle={cycle.id}\b"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Board pack: {last_month:%B %Y}")
    now, before = cycle.by_month[last_month], cycle.by_month[month_before]
    glance = (
        page.locator("#at-a-glance")
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name="Completed audits", exact=True))
    )
    expect(glance.locator("td")).to_have_text([f"{before:,}", f"{now:,}"])
    first = page.locator("#summary-statements li").first
    expect(first).to_contain_text(
        f"{now:,} audit{'s' if now != 1 else ''} completed this period ({before:,} in the previous period)."
    )
    check_accessibility(page)
    first.get_by_role("link", name="at a glance").click()
    expect(page).to_have_url(re.compile(r"/reports/board-pack\?.*#at-a-glance$"))
    expect(page.locator("#at-a-glance")).to_be_in_viewport()
    check_accessibility(page)

    # 7. The pack as a PDF: a real PDF with the month's count in its text.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    data = download.value.path().read_bytes()
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    words = " ".join(text.split())
    assert f"Board pack: {last_month:%B %Y}" in words
    assert f"{now:,} audit{'s' if now != 1 else ''} completed this period ({before:,} in the previous period)" in words
    found = re.search(r"Completed audits\s+([\d,]+)\s+([\d,]+)", text)
    assert found, text[:2000]
    assert (found.group(1), found.group(2)) == (f"{before:,}", f"{now:,}")


def test_head_of_service_sees_their_area_and_a_figures_audits_linked_only_where_theirs(
    new_context: NewContext, live_server: LiveServer
) -> None:
    with _database(live_server) as session:
        own_teams = set(
            session.execute(
                select(Team.name)
                .join(ServiceArea, ServiceArea.id == Team.service_area_id)
                .where(ServiceArea.name == HOS_AREA)
            ).scalars()
        )
        # Harriet audits too: the figure lists others' audits of her area as well as hers.
        hers = set(
            session.execute(
                select(Audit.id)
                .join(User, User.id == Audit.auditor_id)
                .where(User.username == HEAD_OF_SERVICE.username)
            ).scalars()
        )
    assert own_teams
    page = new_context().new_page()
    sign_in(page, HEAD_OF_SERVICE.username, HEAD_OF_SERVICE.full_name)
    service_nav(page).get_by_role("link", name="Reports").click()
    expect(page.locator(".govuk-caption-l")).to_have_text(HOS_AREA)
    expect(page.get_by_role("combobox", name="Service area")).to_have_count(0)
    expect(page.locator("table#grades-by-area tbody th")).to_have_text([HOS_AREA])
    teams = page.locator("table#grades-by-team tbody th").all_inner_texts()
    assert teams and set(teams) <= own_teams, teams
    check_accessibility(page)

    # The largest grade count of her area, followed to its audits.
    links = page.locator("#grades-overall").get_by_role("link", name=re.compile(r"^\d+ audits? graded "))
    expect(links.first).to_be_visible()
    named = {(link.get_attribute("aria-label") or ""): link for link in links.all()}
    name = max(named, key=lambda n: int(n.split()[0]))
    n, label = int(name.split()[0]), name.split(" graded ", 1)[1]
    assert n <= PAGE_SIZE
    named[name].click()
    expect(page.get_by_role("heading", name="Audits behind a figure")).to_be_visible()
    expect(page.locator("#audits-what")).to_contain_text(HOS_AREA)
    expect(page.locator("#audits-count")).to_have_text(
        f"{n} audit{'s' if n != 1 else ''}, most recently completed first"
    )
    listed = _drill_rows(page)
    assert len(listed) == n and {shown for _, _, shown in listed} == {label}
    # A head of service reads every completed audit of her area (her own as auditor among them): each is linked,
    # with its case reference.
    assert all(linked for _, linked, _ in listed) and any(number not in hers for number, _, _ in listed)
    headers = page.locator("#audits-table thead th").all_inner_texts()
    assert "Case" in headers, headers
    check_accessibility(page)
