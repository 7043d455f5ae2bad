"""Finding a case in the register: filters, search, the case page, and a head of service kept to their area."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.demo.generator import demo_logins
from tests.browser.conftest import NewContext
from tests.browser.helpers import check_accessibility, service_nav, sign_in

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
HEAD_OF_SERVICE = next(u for u in demo_logins() if u.username == "hos")  # heads Safeguarding


def _rows(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#results tbody tr")


def test_qa_lead_filters_searches_and_opens_a_case(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    service_nav(page).get_by_role("link", name="Cases").click()
    expect(page).to_have_url(re.compile(r"/cases$"))
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    expect(page.locator("#result-count")).to_contain_text("Showing 1 to 50 of")
    check_accessibility(page)

    # Choosing a case type updates the results in place (htmx) and the address (so it can be shared).
    page.get_by_label("Case type").select_option(label="Child looked after")
    expect(page).to_have_url(re.compile(r"case_type=cla"))
    expect(_rows(page).first).to_be_visible()
    types = _rows(page).locator("td:nth-child(2)").all_inner_texts()
    assert types and set(types) == {"Child looked after"}
    check_accessibility(page)

    # Sorting by start date marks the column for screen readers.
    page.locator("#results thead").get_by_role("link", name=re.compile("^Start date")).click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Start date")
    check_accessibility(page)

    child_id = _rows(page).first.locator("td").first.inner_text().strip()
    search = page.get_by_label("Search by child ID")
    search.fill(child_id[:-1])  # the start of the ID finds it too
    search.press("Enter")
    expect(page.locator("#results")).to_contain_text(child_id)
    search.fill(child_id)
    search.press("Enter")
    expect(_rows(page)).to_have_count(1)
    expect(page.locator("#result-count")).to_have_text("Showing 1 to 1 of 1 case")
    check_accessibility(page)

    _rows(page).get_by_role("link", name=child_id).click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Child {child_id}")
    expect(page.get_by_role("heading", name="Audits of this case")).to_be_visible()
    expect(page.get_by_text("No audits yet")).to_be_visible()
    expect(page.get_by_text("List 8")).to_be_visible()
    check_accessibility(page)

    # Nothing found: the page says what to try instead.
    page.goto("/cases?q=NO-SUCH-CHILD")
    expect(page.get_by_role("heading", name="No cases found")).to_be_visible()
    check_accessibility(page)


def test_head_of_service_sees_only_their_service_area(new_context: NewContext) -> None:
    lead = new_context().new_page()
    sign_in(lead, QA_LEAD.username, QA_LEAD.full_name)
    lead.goto("/cases?case_type=cla")
    elsewhere = lead.locator("#results tbody tr").first.get_by_role("link").get_attribute("href")
    assert elsewhere and elsewhere.startswith("/cases/")

    page = new_context().new_page()
    sign_in(page, HEAD_OF_SERVICE.username, HEAD_OF_SERVICE.full_name)
    service_nav(page).get_by_role("link", name="Cases").click()
    expect(_rows(page).first).to_be_visible()
    teams = set(_rows(page).locator("td:nth-child(3)").all_inner_texts())
    assert teams and teams <= {"Safeguarding Team 1", "Safeguarding Team 2"}
    expect(page.get_by_label("Service area").locator("option")).to_have_text(["Any service area", "Safeguarding"])
    check_accessibility(page)

    # A case in another service area is not there at all.
    page.goto(elsewhere)
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check_accessibility(page)
