"""Importing an extract in the browser: upload the real Annex A sample, check the preview, confirm, find a child."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.demo.generator import demo_logins
from tests.browser.helpers import check_accessibility, expect_error_summary, service_nav, sign_in
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
ANNEX_A = SHARED_DATA / "annex-a-sample/Annex_A.xlsx"  # read-only; only ever handed to the browser
CHILD_ID = "1761444"  # a looked-after child in List 8 of the sample


def _summary_value(page: Page, key: str):
    """The value cell of the summary-list row whose key is exactly `key`."""
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    )
    return row.locator(".govuk-summary-list__value")


def _open_upload_form(page: Page) -> None:
    service_nav(page).get_by_role("link", name="Imports").click()
    expect(page).to_have_url(re.compile(r"/imports$"))
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Upload an extract").click()
    expect(page).to_have_url(re.compile(r"/imports/new$"))
    expect(page.get_by_role("heading", name="Upload an extract")).to_be_visible()
    check_accessibility(page)


def test_upload_without_a_file_shows_the_error_summary(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    _open_upload_form(page)
    page.get_by_label("Ofsted Annex A workbook").check()
    page.get_by_role("button", name="Upload and check").click()
    expect_error_summary(page, "Select the extract file (or files) to upload")
    expect(page.locator("#file-error")).to_contain_text("Select the extract file")
    expect(page.get_by_label("Ofsted Annex A workbook")).to_be_checked()  # the other answers are kept
    check_accessibility(page)
    # The summary's link takes the user to the file input.
    page.locator(".govuk-error-summary").get_by_role(
        "link", name="Select the extract file (or files) to upload"
    ).click()
    expect(page.locator("#file")).to_be_focused()


@pytest.mark.skipif(not ANNEX_A.is_file(), reason="the Annex A sample is not available")
def test_qa_lead_imports_the_annex_a_sample_and_finds_a_child(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    _open_upload_form(page)

    page.get_by_label("Extract file or files").set_input_files(str(ANNEX_A))
    page.get_by_label("Ofsted Annex A workbook").check()
    expect(page.get_by_label("All or nothing")).to_be_checked()
    # Off by default: this sample is not every open case, and the demo cases must stay open.
    expect(page.get_by_label("Close open cases missing from this extract")).not_to_be_checked()
    page.get_by_role("button", name="Upload and check").click()

    # The preview: what would change, nothing written yet.
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    expect(page.get_by_role("heading", name="Check the import", level=1)).to_be_visible()
    expect(_summary_value(page, "Rows read")).to_have_text(re.compile(r"^\s*[1-9]\d*\s*$"))
    expect(_summary_value(page, "Cases to create")).to_have_text(re.compile(r"^\s*43\s*$"))
    expect(_summary_value(page, "Open cases to close")).to_have_text(re.compile(r"^\s*0\s*$"))
    expect(_summary_value(page, "Files")).to_have_text(re.compile(r"Annex_A\.xlsx"))
    expect(page.get_by_text("Open cases missing from this extract are left open")).to_be_visible()
    expect(page.get_by_role("heading", name="Errors")).to_have_count(0)
    # Warnings are there but collapsed, so they do not bury the counts.
    warnings = page.locator("details.govuk-details")
    expect(warnings.locator("summary")).to_contain_text(re.compile(r"\d+ warnings? \(these do not stop the import\)"))
    expect(warnings).not_to_have_attribute("open", re.compile(".*"))
    expect(warnings.get_by_role("table")).to_be_hidden()
    check_accessibility(page)
    warnings.locator("summary").click()  # open, they are readable (and checked) too
    expect(warnings.get_by_role("table")).to_be_visible()
    check_accessibility(page)

    page.get_by_role("button", name="Confirm import").click()
    # The import runs in the background; the page follows its progress and reloads when it has finished.
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Extract imported")
    expect(panel).to_contain_text("43 created, 0 updated, 0 closed")
    expect(_summary_value(page, "Cases created")).to_have_text(re.compile(r"^\s*43\s*$"))
    check_accessibility(page)

    # The imports list shows it, imported.
    service_nav(page).get_by_role("link", name="Imports").click()
    latest = page.locator("table.govuk-table tbody tr").first
    expect(latest).to_contain_text("Annex_A.xlsx")
    expect(latest).to_contain_text("Imported")
    check_accessibility(page)

    # The child is in the register, with the facts from the workbook.
    service_nav(page).get_by_role("link", name="Cases").click()
    expect(page).to_have_url(re.compile(r"/cases$"))
    search = page.get_by_label("Search by child ID")
    search.fill(CHILD_ID)
    search.press("Enter")
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_contain_text(CHILD_ID)
    expect(page.locator("#results")).to_contain_text("Child looked after")
    check_accessibility(page)

    rows.filter(has_text="Child looked after").get_by_role("link", name=CHILD_ID).click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Child {CHILD_ID}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open")
    expect(_summary_value(page, "Legal status")).to_contain_text("E1")
    expect(_summary_value(page, "Allocated worker")).to_have_text(re.compile(r"^\s*Eugene Swift\s*$"))
    expect(page.get_by_text("List 8")).to_be_visible()
    check_accessibility(page)


@pytest.mark.skipif(not ANNEX_A.is_file(), reason="the Annex A sample is not available")
def test_qa_lead_discards_a_preview(page: Page) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    _open_upload_form(page)
    page.get_by_label("Extract file or files").set_input_files(str(ANNEX_A))
    page.get_by_label("Ofsted Annex A workbook").check()
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Check the import", level=1)).to_be_visible()
    preview_url = page.url

    # Discarding asks first; cancelling leaves the preview as it was.
    page.get_by_role("button", name="Discard this preview").click()
    expect(page.get_by_role("heading", name="Are you sure you want to discard this preview?")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(preview_url)
    expect(page.get_by_role("button", name="Confirm import")).to_be_visible()

    page.get_by_role("button", name="Discard this preview").click()
    page.get_by_role("button", name="Discard the preview").click()
    expect(page).to_have_url(preview_url)
    expect(page.get_by_role("heading", name="Preview discarded", level=1)).to_be_visible()
    expect(page.get_by_text("this preview was discarded")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    expect(page.get_by_role("button", name="Discard this preview")).to_have_count(0)
    check_accessibility(page)

    # It stays in the list of imports, marked discarded.
    service_nav(page).get_by_role("link", name="Imports").click()
    link = page.get_by_role("link", name=f"Import {preview_url.rsplit('/', 1)[1]}", exact=True)
    row = page.locator("table.govuk-table tbody tr").filter(has=link)
    expect(row).to_contain_text("Annex_A.xlsx")
    expect(row).to_contain_text("Discarded")
    check_accessibility(page)
