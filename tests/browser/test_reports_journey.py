"""Issue 8 so far, in the browser: the QA lead and a head of service open the reports page from the navigation and
change the period; every page is checked with axe. (The full journey, with drill-down and the board pack, comes
with the rest of issue 8.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.demo.generator import demo_logins
from tests.browser.conftest import NewContext
from tests.browser.helpers import check_accessibility, expect_error_summary, service_nav, sign_in

pytestmark = pytest.mark.browser

LOGINS = {u.username: u for u in demo_logins()}


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
