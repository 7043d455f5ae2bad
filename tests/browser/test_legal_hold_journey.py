"""The QA lead puts a case on legal hold from its page (an empty reason is refused first), finds it on the Legal holds
page and lifts it, after the page that says what lifting means; axe on each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session

from app.cases.models import Case, LegalHold
from app.db import make_engine
from app.demo.generator import demo_logins
from tests.browser.conftest import LiveServer
from tests.browser.helpers import (
    check_accessibility,
    error_summary,
    expect_error_summary,
    service_nav,
    sign_in,
    success_banner,
)

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
REASON = "Complaint to the Ombudsman about the child's care, reference LGO-2026-17"
LIFT_REASON = "The Ombudsman closed the complaint and no appeal is open"


def _unheld_open_case(live_server: LiveServer) -> str:
    """The child ID of an open case that has never been on legal hold (from the end of the register, away from the
    cases the other journeys take first)."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with Session(engine) as session:
            child_id = session.execute(
                select(Case.child_id)
                .where(Case.status == "open", Case.id.not_in(select(LegalHold.case_id)))
                .order_by(Case.child_id.desc())
                .offset(5)
                .limit(1)
            ).scalar_one_or_none()
    finally:
        engine.dispose()
    assert child_id, "no open case in the demo register"
    return child_id


def test_qa_lead_puts_a_case_on_legal_hold_and_lifts_it(page: Page, live_server: LiveServer) -> None:
    child_id = _unheld_open_case(live_server)
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)

    # Find the case and open it: its page has the Legal hold panel.
    service_nav(page).get_by_role("link", name="Cases").click()
    search = page.get_by_label("Search by child ID")
    search.fill(child_id)
    search.press("Enter")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.locator("#results").get_by_role("link", name=child_id).click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    case_url = page.url
    panel = page.get_by_role("region", name="Legal hold")
    expect(panel).to_contain_text("This case is not on legal hold")
    check_accessibility(page)

    # Put it on hold: an empty reason is refused, naming the box.
    panel.get_by_role("button", name="Put on legal hold").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/legal-hold$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"You are putting the case of child {child_id} on legal hold"
    )
    check_accessibility(page)
    page.get_by_role("button", name="Put the case on legal hold").click()
    expect_error_summary(page, "Enter why the case is being put on legal hold")
    check_accessibility(page)
    error_summary(page).get_by_role("link", name="Enter why the case is being put on legal hold").click()
    reason = page.get_by_label("Why is the case being put on legal hold?")
    expect(reason).to_be_focused()
    reason.fill(REASON)
    page.get_by_role("button", name="Put the case on legal hold").click()

    # Back on the case page: on hold, since today, for the reason, by the QA lead.
    expect(page).to_have_url(re.compile(r"/cases/\d+\?legal_hold=placed$"))
    expect(success_banner(page)).to_contain_text("The case is on legal hold.")
    panel = page.get_by_role("region", name="Legal hold")
    expect(panel.locator("#legal-hold-status")).to_contain_text(
        re.compile(rf"On legal hold since \d{{1,2}} \w+ \d{{4}}: {re.escape(REASON)}, placed by {QA_LEAD.full_name}")
    )
    check_accessibility(page)

    # It is on the Legal holds page (from Retention in the menu), which lists the active holds first.
    service_nav(page).get_by_role("link", name="Retention").click()
    page.get_by_role("main").get_by_role("link", name="Legal holds", exact=True).click()
    expect(page.get_by_role("heading", name="Legal holds", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Legal holds, active ones first, newest first")
    row = table.get_by_role("row").filter(has_text=child_id)
    expect(row).to_contain_text("On hold")
    expect(row).to_contain_text(REASON)
    check_accessibility(page)
    page.get_by_label("Status").select_option(label="On hold")
    expect(page).to_have_url(re.compile(r"status=active"))
    expect(table.get_by_role("row").filter(has_text=child_id)).to_be_visible()
    check_accessibility(page)

    # Lift it: the page says what lifting means, and asks why.
    row.get_by_role("link", name=f"Lift the hold on the case of child {child_id}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Are you sure you want to lift the legal hold on the case of child {child_id}?"
    )
    expect(page.get_by_text("may be removed or anonymised at the next retention run")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Why is the hold being lifted?").fill(LIFT_REASON)
    page.get_by_role("button", name="Lift the legal hold").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+\?legal_hold=lifted$"))
    assert page.url.startswith(case_url)
    expect(success_banner(page)).to_contain_text("The legal hold is lifted.")
    expect(page.get_by_role("region", name="Legal hold")).to_contain_text("This case is not on legal hold")
    check_accessibility(page)

    # The lifted hold stays in the list, with why it was lifted.
    page.goto("/legal-holds?status=lifted")
    lifted = page.get_by_role("table", name="Legal holds, active ones first, newest first").get_by_role("row")
    expect(lifted.filter(has_text=child_id)).to_contain_text("Lifted")
    expect(lifted.filter(has_text=child_id)).to_contain_text(LIFT_REASON)
    check_accessibility(page)
