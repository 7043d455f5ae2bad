"""The audit programme in the browser: a cycle, a stratified sample (preview, confirm), allocation, "My audits"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app.demo.generator import demo_logins
from tests.browser.conftest import LiveServer, NewContext
from tests.browser.helpers import check_accessibility, expect_error_summary, service_nav, sign_in, success_banner

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
AUDITOR = next(u for u in demo_logins() if u.username == "auditor")
AUDITOR_TEAM = "Safeguarding Team 2"
# Large enough for at least 2 from each team, with room for the teams other journeys add; well below the frame the
# demo leaves (about 60 open cases not audited in the last year, depending on the demo's history).
SIZE = 40


def test_qa_lead_plans_a_cycle_draws_a_stratified_sample_and_allocates_it(
    page: Page, new_context: NewContext, live_server: LiveServer
) -> None:
    today = live_server.today()
    due = today + timedelta(days=40)
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)

    service_nav(page).get_by_role("link", name="Programme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Audit programme {today.year}")
    check_accessibility(page)

    # A cycle: first with nothing filled in, then properly.
    page.get_by_role("button", name="Create a cycle").click()
    expect(page.get_by_role("heading", name="Create an audit cycle")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Create cycle").click()
    expect_error_summary(
        page, "Enter title", "Select the kind of cycle", "Select the template the audits will use", "Enter due date"
    )
    check_accessibility(page)
    page.get_by_label("Title").fill("Browser dip sample")
    page.get_by_label("Dip sample", exact=True).check()
    page.get_by_label("Template").select_option(label="Dip sample compliance checklist (version 2)")
    due_group = page.get_by_role("group", name="Due date")
    due_group.get_by_label("Day").fill(str(due.day))
    due_group.get_by_label("Month").fill(str(due.month))
    due_group.get_by_label("Year").fill(str(due.year))
    page.get_by_role("button", name="Create cycle").click()
    expect(success_banner(page)).to_contain_text("Cycle created")
    expect(page.get_by_role("heading", name="Browser dip sample")).to_be_visible()
    check_accessibility(page)

    # A stratified sample by team, at least 2 from each team: the precision follows the size as it is typed.
    page.get_by_role("button", name="Draw a sample").click()
    expect(page.get_by_role("heading", name="Draw a sample")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Stratified").check()
    page.get_by_label("Sample size").fill(str(SIZE))
    expect(page.locator("#precision")).to_contain_text(
        re.compile(rf"n = {SIZE} gives ±\d+ points at 95% for a frame of \d+")
    )
    page.get_by_label("Stratify by").select_option(label="Team")
    page.get_by_label("Minimum per stratum (optional)").fill("2")
    # Leaving the field updates the precision (htmx): let that land before pressing the button below it.
    with page.expect_response(lambda r: r.request.method == "GET" and "/samples/new" in r.url):
        page.get_by_label("Minimum per stratum (optional)").press("Tab")
    check_accessibility(page)
    page.get_by_role("button", name="Preview the sample").click()

    preview = page.locator("#preview")
    expect(preview.get_by_role("heading", level=2)).to_contain_text(f"Preview: {SIZE} cases from")
    strata = preview.get_by_role("table", name="Each stratum's share").locator("tbody tr")
    expect(strata.first).to_be_visible()
    # One row per team with open cases (how many depends on the journeys before: an import may close or add some).
    assert strata.count() >= 2
    frame_total = 0
    for row in strata.all():
        in_frame, drawn_here = (int(cell) for cell in row.locator("td").all_inner_texts())
        assert drawn_here >= min(2, in_frame), row.inner_text()
        frame_total += in_frame
    expect(preview.get_by_role("heading", level=2)).to_contain_text(f"Preview: {SIZE} cases from {frame_total}")
    drawn = preview.get_by_role("table", name="The cases drawn").locator("tbody tr td:first-child")
    expect(drawn).to_have_count(SIZE)
    previewed = sorted(drawn.all_inner_texts())
    seed = page.locator("#preview .govuk-summary-list__row", has_text="Seed").locator("dd").inner_text().strip()
    check_accessibility(page)
    page.get_by_role("button", name="Confirm this sample").click()

    expect(success_banner(page)).to_contain_text("Sample saved")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Sample \d+"))
    expect(page.locator(".govuk-summary-list__row", has_text="Seed")).to_contain_text(seed)
    stored = page.get_by_role("table", name=re.compile(r"cases in the sample")).locator("tbody tr td:first-child")
    assert sorted(stored.all_inner_texts()) == previewed  # exactly what the preview showed
    check_accessibility(page)

    # Give one case outside Asha's team to her, then confirm.
    rows = page.locator("#assignments tbody tr")
    expect(rows).to_have_count(SIZE)
    changed = None
    for row in rows.all():
        select = row.locator("select")
        current = select.locator("option:checked").inner_text()
        if row.locator("td").nth(1).inner_text() != AUDITOR_TEAM and not current.startswith(AUDITOR.full_name):
            option = select.locator("option", has_text=AUDITOR.full_name)
            select.select_option(option.get_attribute("value"))
            changed = row.locator("td").first.inner_text()
            break
    assert changed, "every case is in Asha's team or already hers"
    due_field = page.get_by_role("group", name="Due date for these audits")
    expect(due_field.get_by_label("Day")).to_have_value(str(due.day))
    check_accessibility(page)
    page.get_by_role("button", name="Confirm allocation").click()

    expect(success_banner(page)).to_contain_text("Allocation confirmed")
    created = page.get_by_role("table", name="Audits created from this sample")
    expect(created.locator("tbody tr")).to_have_count(SIZE)
    expect(created.get_by_role("row").filter(has_text=changed)).to_contain_text(AUDITOR.full_name)
    check_accessibility(page)

    # The cycle shows the audits by auditor.
    page.get_by_role("link", name="Back to the cycle").click()
    expect(
        page.get_by_role("table", name="Audits in this cycle by auditor").get_by_role("row", name=re.compile("Total"))
    ).to_contain_text(str(SIZE))
    check_accessibility(page)

    # Asha signs in and finds the audit in "My audits", with its due date.
    auditor_page = new_context().new_page()
    sign_in(auditor_page, AUDITOR.username, AUDITOR.full_name)
    service_nav(auditor_page).get_by_role("link", name="Audits").click()
    expect(auditor_page.get_by_role("heading", name="My audits")).to_be_visible()
    mine = auditor_page.locator("#results tbody tr").filter(has_text=changed)
    expect(mine).to_contain_text(due.strftime("%-d %B %Y"))
    expect(mine).to_contain_text("Not started")
    check_accessibility(auditor_page)


def test_qa_lead_copies_a_cycle_for_next_month_and_closes_the_copy(page: Page, live_server: LiveServer) -> None:
    today = live_server.today()
    due = today + timedelta(days=20)
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    page.goto("/programme/new")
    page.get_by_label("Title").fill("Thematic: missing children")
    page.get_by_label("Thematic", exact=True).check()
    page.get_by_label("Template").select_option(
        label="Thematic audit: missing children and return home interviews (version 2)"
    )
    due_group = page.get_by_role("group", name="Due date")
    due_group.get_by_label("Day").fill(str(due.day))
    due_group.get_by_label("Month").fill(str(due.month))
    due_group.get_by_label("Year").fill(str(due.year))
    page.get_by_role("button", name="Create cycle").click()
    expect(page.get_by_role("heading", name="Thematic: missing children", exact=True)).to_be_visible()

    page.get_by_role("button", name="Copy as next month").click()
    expect(success_banner(page)).to_contain_text("Cycle copied for next month")
    expect(page.get_by_role("heading", name="Thematic: missing children (next month)")).to_be_visible()
    check_accessibility(page)

    page.get_by_role("link", name="Close this cycle").click()
    expect(page.get_by_role("heading", name="Are you sure you want to close this cycle?")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Close the cycle").click()
    expect(page.get_by_role("heading", name="Thematic: missing children (next month)")).to_be_visible()
    expect(page.get_by_role("link", name="Close this cycle")).to_have_count(0)
    expect(page.get_by_role("button", name="Draw a sample")).to_have_count(0)
    check_accessibility(page)
