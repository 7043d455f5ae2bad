"""The QA lead corrects a register fact the case system got wrong: the form (with its problems named), the review,
the confirmation and the history on the case page; a head of service reads the history but cannot correct. axe on
each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import ServiceArea
from app.cases.models import Case
from app.db import make_engine
from app.demo.generator import demo_logins
from tests.browser.conftest import LiveServer, NewContext
from tests.browser.helpers import check_accessibility, expect_error_summary, sign_in, success_banner

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
HEAD_OF_SERVICE = next(u for u in demo_logins() if u.username == "hos")  # heads Safeguarding
REASON = "The care plan on the child's file, agreed at the review on 2 October 2026, is adoption"


def _safeguarding_case(live_server: LiveServer) -> tuple[int, str]:
    """An open case in the head of service's area (the first by child ID)."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with Session(engine) as session:
            row = session.execute(
                select(Case.id, Case.child_id)
                .join(ServiceArea, ServiceArea.id == Case.service_area_id)
                .where(ServiceArea.name == "Safeguarding", Case.status == "open")
                .order_by(Case.child_id)
                .limit(1)
            ).one()
            return row[0], row[1]
    finally:
        engine.dispose()


def test_qa_lead_corrects_a_fact_and_the_history_shows_it(new_context: NewContext, live_server: LiveServer) -> None:
    case_id, child_id = _safeguarding_case(live_server)
    page: Page = new_context().new_page()
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    page.goto(f"/cases/{case_id}")
    corrections = page.locator("#corrections")
    expect(corrections.get_by_role("heading", name="Corrections")).to_be_visible()
    check_accessibility(page)

    corrections.get_by_role("button", name="Correct a fact").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}/corrections/new$"))
    expect(page.get_by_role("heading", name="Correct a fact", level=1)).to_be_visible()
    check_accessibility(page)

    # Sent empty: each problem is named, linked to its field.
    page.get_by_role("button", name="Continue").click()
    expect_error_summary(page, "Select the fact to correct", "Give the reason for the correction")
    check_accessibility(page)

    # A value that is not one of the fact's type is named with the fact.
    page.get_by_label("Which fact is wrong?").select_option("placements_12m")
    page.get_by_label("What should it be?").fill("several")
    page.get_by_label("Why is it being corrected?").fill(REASON)
    page.get_by_role("button", name="Continue").click()
    expect_error_summary(page, "Placements in the last 12 months must be a whole number, 0 or more")
    check_accessibility(page)

    page.get_by_label("Which fact is wrong?").select_option("permanence_plan")
    page.get_by_label("What should it be?").fill("Adoption by corrections")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check the correction", level=1)).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Adoption by corrections")
    check_accessibility(page)

    # Change it: back to the form, as entered; then review and confirm.
    page.get_by_role("button", name="Change it").click()
    expect(page.get_by_label("What should it be?")).to_have_value("Adoption by corrections")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm the correction").click()

    expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?corrected=1#corrections$"))
    expect(success_banner(page)).to_contain_text("Correction saved")
    table = page.get_by_role("table", name="Corrections of this case’s facts, newest first")
    row = table.locator("tbody tr").first
    expect(row).to_contain_text("Permanence plan")
    expect(row).to_contain_text("Adoption by corrections")
    expect(row).to_contain_text(QA_LEAD.full_name)
    expect(row).to_contain_text("In force")
    expect(page.get_by_text("Adoption by corrections").first).to_be_visible()
    check_accessibility(page)

    # The head of service of the case's area reads the history, and has no way to correct.
    other = new_context().new_page()
    sign_in(other, HEAD_OF_SERVICE.username, HEAD_OF_SERVICE.full_name)
    other.goto(f"/cases/{case_id}")
    expect(other.get_by_role("heading", level=1)).to_contain_text(f"Child {child_id}")
    history = other.get_by_role("table", name="Corrections of this case’s facts, newest first")
    expect(history.locator("tbody tr").first).to_contain_text("Adoption by corrections")
    expect(other.get_by_role("button", name="Correct a fact")).to_have_count(0)
    check_accessibility(other)
    response = other.goto(f"/cases/{case_id}/corrections/new")
    assert response is not None and response.status == 403
    check_accessibility(other)
