"""The QA lead reads the retention schedule in force, with where each period comes from and what is due today (a
dry run), and goes on to the legal holds; axe on each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.demo.generator import demo_logins
from tests.browser.helpers import check_accessibility, service_nav, sign_in

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")


def test_qa_lead_reads_the_retention_schedule(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    service_nav(page).get_by_role("link", name="Retention").click()
    expect(page.get_by_role("heading", name="Retention", level=1)).to_be_visible()
    table = page.get_by_role("table", name="The retention schedule, and what is due today")
    row = table.get_by_role("row").filter(has_text="Sign-in attempts")
    expect(row).to_contain_text("1 year after created")
    expect(row).to_contain_text("NCSC guidance")
    expect(table.get_by_role("row").filter(has_text="Closed cases in the register")).to_contain_text("Anonymised")
    expect(page.get_by_text("The schedule is applied every night at 02:30")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("main").get_by_role("link", name="Legal holds", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Legal holds")
    check_accessibility(page)
