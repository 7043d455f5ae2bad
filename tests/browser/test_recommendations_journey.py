"""Issue 7 in the browser: recommendations raised, done, verified and taken away.

The auditor raises two recommendations from her audit of one of Priya Shah's cases; Priya records what she did on
one; Harriet Osei (head of service for Safeguarding) sees her dashboard's "awaiting verification" figure go up,
follows it to the list behind it, verifies and closes the recommendation, sees the figure go back down, and
exports the list. Every page is checked with axe.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from app.demo.generator import demo_logins
from tests.browser.conftest import LiveServer, NewContext
from tests.browser.helpers import (
    check_accessibility,
    expect_error_summary,
    service_nav,
    sign_in,
    success_banner,
)
from tests.browser.setup_data import start_dip_sample

pytestmark = pytest.mark.browser

LOGINS = {u.username: u for u in demo_logins()}
AUDITOR, HEAD_OF_SERVICE, PRACTITIONER = (LOGINS[n] for n in ("auditor", "hos", "practitioner"))
FIRST = "Bring the chronology up to date, including the strategy discussion of 3 November"
SECOND = "Record the child's wishes and feelings at the next visit"
EVIDENCE = "Chronology updated on 20 November and checked by my team manager"


def _figure(page: Page, about: str) -> int:
    """A dashboard figure (a link whose accessible name ends with `about`), as a number."""
    link = page.get_by_role("link", name=re.compile(rf"^[\d,]+ {re.escape(about)}$")).first
    return int((link.text_content() or "").split()[0].replace(",", ""))


def _open_dashboard(page: Page) -> None:
    service_nav(page).get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Recommendations dashboard")).to_be_visible()
    expect(page.get_by_text("Safeguarding", exact=True).first).to_be_visible()
    check_accessibility(page)


def _raise(page: Page, text: str, priority: str, *, theme: str | None = None) -> int:
    page.get_by_label("What must be done").fill(text)
    page.get_by_label("Which finding it comes from").select_option(label="Compliance checklist")
    expect(page.get_by_label("Owner")).to_have_value(re.compile(r"^\d+$"))
    assert page.get_by_label("Owner").locator("option:checked").inner_text() == PRACTITIONER.full_name
    page.get_by_role("group", name="Priority").get_by_label(priority, exact=True).check()
    if theme:
        page.get_by_role("group", name="Themes").get_by_label(theme, exact=True).check()
    page.get_by_role("button", name="Raise the recommendation").click()
    banner = success_banner(page)
    expect(banner).to_contain_text("raised")
    check_accessibility(page)
    found = re.search(r"Recommendation (\d+) raised", banner.inner_text())
    assert found, banner.inner_text()
    return int(found.group(1))


def test_recommendations_from_raising_to_verified_closure_and_export(
    new_context: NewContext, live_server: LiveServer
) -> None:
    setup = start_dip_sample(
        live_server, worker_name=PRACTITIONER.full_name, auditor_username=AUDITOR.username, last=False
    )

    # 0. Harriet's dashboard before anything happens.
    hos = new_context().new_page()
    sign_in(hos, HEAD_OF_SERVICE.username, HEAD_OF_SERVICE.full_name)
    _open_dashboard(hos)
    awaiting_before = _figure(hos, "recommendations awaiting verification")
    outstanding_before = _figure(hos, "outstanding recommendations")

    # 1. Asha raises two recommendations from her audit (after a try with nothing filled in).
    asha = new_context().new_page()
    sign_in(asha, AUDITOR.username, AUDITOR.full_name)
    asha.goto(f"/audits/{setup.audit_id}")
    check_accessibility(asha)
    asha.get_by_role("link", name="Raise a recommendation from this audit's findings").click()
    expect(asha.get_by_role("heading", name="Recommendations", exact=True)).to_be_visible()
    check_accessibility(asha)
    asha.get_by_role("button", name="Raise the recommendation").click()
    expect_error_summary(asha, "Enter what must be done")
    check_accessibility(asha)
    first = _raise(asha, FIRST, "High", theme="Chronology")
    second = _raise(asha, SECOND, "Urgent", theme="Child's voice")
    expect(asha.get_by_role("table", name=re.compile(r"^Raised from this audit \(2\)"))).to_be_visible()

    # 2. Priya finds them in "My actions" and records what she did on the first.
    priya = new_context().new_page()
    sign_in(priya, PRACTITIONER.username, PRACTITIONER.full_name)
    priya.get_by_role("link", name=re.compile(r"recommendations? to complete")).click()
    expect(priya.get_by_role("heading", name="My actions")).to_be_visible()
    check_accessibility(priya)
    for number, text in ((first, FIRST), (second, SECOND)):
        expect(priya.get_by_role("link", name=f"{text} (recommendation {number})")).to_be_visible()
    priya.get_by_role("link", name=f"{FIRST} (recommendation {first})").click()
    expect(priya).to_have_url(re.compile(rf"/recommendations/{first}$"))
    expect(priya.get_by_text(FIRST)).to_be_visible()
    check_accessibility(priya)
    priya.get_by_role("button", name="Mark as completed").click()
    expect_error_summary(priya, "Describe what was done: the evidence is needed to complete it")
    priya.get_by_label("What was done").fill(EVIDENCE)
    priya.get_by_role("button", name="Mark as completed").click()
    expect(success_banner(priya)).to_contain_text("Marked as completed")
    expect(priya.get_by_role("heading", name="Completed, awaiting verification")).to_be_visible()
    expect(priya.get_by_role("button", name="Verify and close")).to_have_count(0)  # never the owner
    check_accessibility(priya)

    # 3. Harriet's dashboard shows it waiting; she follows the figure to the list and verifies it.
    _open_dashboard(hos)
    assert _figure(hos, "recommendations awaiting verification") == awaiting_before + 1
    assert _figure(hos, "outstanding recommendations") == outstanding_before + 2
    hos.get_by_role("link", name=re.compile(r"^[\d,]+ recommendations awaiting verification$")).first.click()
    expect(hos).to_have_url(re.compile(r"/recommendations\?.*status=awaiting_verification"))
    expect(hos.get_by_label("Status")).to_have_value("awaiting_verification")
    check_accessibility(hos)
    hos.get_by_role("link", name=f"{FIRST} (recommendation {first})").click()
    expect(hos.locator(".govuk-summary-list").get_by_text(EVIDENCE)).to_be_visible()
    check_accessibility(hos)
    hos.get_by_role("button", name="Verify and close").click()
    expect(success_banner(hos)).to_contain_text("Verified and closed")
    expect(hos.get_by_role("heading", name="Closed", exact=True)).to_be_visible()
    check_accessibility(hos)
    _open_dashboard(hos)
    assert _figure(hos, "recommendations awaiting verification") == awaiting_before
    assert _figure(hos, "outstanding recommendations") == outstanding_before + 1

    # 4. She exports her area's recommendations: both are in it, with what was done.
    service_nav(hos).get_by_role("link", name="Recommendations", exact=True).click()
    expect(hos.get_by_role("heading", name="Recommendations", exact=True)).to_be_visible()
    check_accessibility(hos)
    with hos.expect_download() as download:
        hos.get_by_role("link", name="CSV file of these recommendations").click()
    assert re.fullmatch(r"recommendations-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    rows = {
        int(r["Number"]): r for r in csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig")))
    }
    assert rows[first]["Status"] == "Closed" and rows[first]["Evidence"] == EVIDENCE
    assert rows[second]["Priority"] == "Urgent" and rows[second]["Child"] == setup.child_id
    # Her area only, and what she raised or owns elsewhere (she audits too, and raised some in the demo's year).
    assert all(
        r["Service area"] == "Safeguarding" or HEAD_OF_SERVICE.full_name in (r["Raised by"], r["Owner"])
        for r in rows.values()
    )
    assert any(r["Service area"] == "Safeguarding" for r in rows.values())
