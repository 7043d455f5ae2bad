"""The board pack as a record, in the browser: the QA lead schedules packs (after a refused try), prepares the month's
pack, writes the commentary, issues it, waits while the job queue makes it, and the board's email arrives with the
very file the pack's page offers (its SHA-256 on the page). axe on every page."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from playwright.sync_api import Page, expect

from app.demo.generator import demo_logins
from tests.browser.helpers import check_accessibility, expect_error_summary, service_nav, sign_in, success_banner

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
BOARD = "chair.board@example.org"


def test_qa_lead_schedules_comments_on_and_issues_a_board_pack(page: Page, mail_server) -> None:
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)
    service_nav(page).get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Board packs as issued").click()
    expect(page.get_by_role("heading", name="Board packs", level=1)).to_be_visible()
    check_accessibility(page)

    page.get_by_role("button", name="Schedule board packs").click()
    expect(page.get_by_role("heading", name="Schedule board packs")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Send to").fill("chair@example\nnot an address")
    page.get_by_role("button", name="Schedule").click()
    expect_error_summary(page, "Enter a title, for example Improvement Operations Board")
    expect(page.get_by_label("Send to")).to_have_value("chair@example\nnot an address")  # nothing typed is lost
    check_accessibility(page)
    page.get_by_label("Title").fill("Improvement Operations Board")
    page.get_by_label("Monthly").check()
    page.get_by_label("Prepared on working day").fill("3")
    page.get_by_label("Send to").fill(BOARD)
    page.get_by_role("button", name="Schedule").click()
    expect(page).to_have_url(re.compile(r"/reports/packs$"))
    expect(page.get_by_role("cell", name="Improvement Operations Board", exact=True)).to_be_visible()
    check_accessibility(page)

    page.goto("/reports/board-pack")
    check_accessibility(page)
    page.get_by_role("button", name="Prepare this pack to issue").click()
    expect(page).to_have_url(re.compile(r"/reports/packs/\d+$"))
    check_accessibility(page)
    page.get_by_role("button", name="Issue the pack").click()
    page.get_by_role("button", name="Issue the pack").click()
    expect_error_summary(page, "Write the commentary before issuing the pack", "Enter at least one email address")
    check_accessibility(page)

    page.get_by_label("Commentary").fill("Compliance held steady.\n\nThe board is asked to note the MASH figures.")
    page.get_by_label("Send to").fill(BOARD)
    page.get_by_role("button", name="Save").click()
    expect(success_banner(page)).to_contain_text("Commentary and distribution list saved")
    check_accessibility(page)
    page.get_by_role("button", name="Issue the pack").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Issue the board pack for"))).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Issue the pack").click()

    download = page.get_by_role("link", name="Download the issued pack (PDF)")
    expect(download).to_be_visible(timeout=120_000)  # the job queue makes it; the page follows it
    check_accessibility(page)
    expect(page.get_by_text("The board is asked to note the MASH figures.")).to_be_visible()
    sha = page.locator("code").first.inner_text().strip()
    with page.expect_download() as downloaded:
        download.click()
    data = downloaded.value.path().read_bytes()
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == sha

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(BOARD in r.recipients for r in mail_server.received):
        time.sleep(0.5)
    [email] = [r for r in mail_server.received if BOARD in r.recipients]
    [attachment] = list(email.message.iter_attachments())
    assert attachment.get_content() == data

    # The background jobs the QA lead looks after, on a page of their own.
    service_nav(page).get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Background jobs", level=1)).to_be_visible()
    check_accessibility(page)
