"""Finding a case in the register: filters, search, the case page, and a head of service kept to their area (and the
cases they audit)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.audits.models import Audit
from app.cases.models import Case
from app.db import make_engine
from app.demo.generator import demo_logins
from tests.browser.conftest import LiveServer, NewContext
from tests.browser.helpers import check_accessibility, service_nav, sign_in

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
HEAD_OF_SERVICE = next(u for u in demo_logins() if u.username == "hos")  # heads Safeguarding


def _rows(page: Page):
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
    # The demo's year of completed audits has audited many cases: either way the section says what there is.
    expect(
        page.get_by_text("No audits yet").or_(page.get_by_role("table", name="Audits of this case, newest first"))
    ).to_be_visible()
    expect(page.get_by_text("List 8")).to_be_visible()
    check_accessibility(page)

    # Nothing found: the page says what to try instead.
    page.goto("/cases?q=NO-SUCH-CHILD")
    expect(page.get_by_role("heading", name="No cases found")).to_be_visible()
    check_accessibility(page)


def _audited_by(live_server: LiveServer, username: str) -> set[str]:
    """The child IDs of the cases `username` has an audit of (an auditor sees those cases too)."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with Session(engine) as session:
            return set(
                session.execute(
                    select(Case.child_id)
                    .join(Audit, Audit.case_id == Case.id)
                    .join(User, User.id == Audit.auditor_id)
                    .where(User.username == username)
                ).scalars()
            )
    finally:
        engine.dispose()


def test_head_of_service_sees_only_their_service_area(new_context: NewContext, live_server: LiveServer) -> None:
    # Harriet is an auditor too, and in the demo's year of audits audited cases of other areas: she sees those.
    audited = _audited_by(live_server, HEAD_OF_SERVICE.username)
    lead = new_context().new_page()
    sign_in(lead, QA_LEAD.username, QA_LEAD.full_name)
    lead.goto("/cases?case_type=cla")
    elsewhere = next(
        row.get_by_role("link").get_attribute("href")
        for row in lead.locator("#results tbody tr").all()
        if row.locator("td").first.inner_text().strip() not in audited
    )
    assert elsewhere and elsewhere.startswith("/cases/")

    page = new_context().new_page()
    sign_in(page, HEAD_OF_SERVICE.username, HEAD_OF_SERVICE.full_name)
    service_nav(page).get_by_role("link", name="Cases").click()
    expect(_rows(page).first).to_be_visible()
    for row in _rows(page).all():
        child_id, team = (row.locator("td").nth(i).inner_text().strip() for i in (0, 2))
        assert team in {"Safeguarding Team 1", "Safeguarding Team 2"} or child_id in audited, (child_id, team)
    expect(page.get_by_label("Service area").locator("option")).to_have_text(["Any service area", "Safeguarding"])
    check_accessibility(page)

    # A case in another service area is not there at all.
    page.goto(elsewhere)
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check_accessibility(page)
