"""A child's records on request, in the browser: the QA lead opens a case the demo has audited, follows "Records
request" (the child ID filled in), is told when the form is sent without a version, produces the redacted records,
and gets a ZIP whose JSON and PDF name the child but none of the demo's staff. axe on each page."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.audits.models import Audit
from app.cases.models import Case
from app.db import make_engine
from app.demo.generator import demo_logins
from tests.browser.conftest import LiveServer
from tests.browser.helpers import check_accessibility, expect_error_summary, service_nav, sign_in

pytestmark = pytest.mark.browser

QA_LEAD = next(u for u in demo_logins() if u.username == "qa.lead")
PRODUCE_TIMEOUT_MS = 60_000


def _audited_case(live_server: LiveServer) -> tuple[str, list[tuple[str, str]]]:
    """A child ID the demo has a completed audit of, and every user's (username, full name)."""
    engine = make_engine(live_server.settings.database_url)
    try:
        with Session(engine) as session:
            child_id = session.execute(
                select(Case.child_id)
                .join(Audit, Audit.case_id == Case.id)
                .where(Audit.status == "completed")
                .order_by(Case.child_id)
                .limit(1)
            ).scalar_one()
            people = [(u, n) for u, n in session.execute(select(User.username, User.full_name)).all()]
            return child_id, people
    finally:
        engine.dispose()


def test_qa_lead_produces_a_childs_redacted_records_from_the_case_page(page: Page, live_server: LiveServer) -> None:
    child_id, people = _audited_case(live_server)
    sign_in(page, QA_LEAD.username, QA_LEAD.full_name)

    # 1. The case, found in the register.
    service_nav(page).get_by_role("link", name="Cases").click()
    search = page.get_by_label("Search by child ID")
    search.fill(child_id)
    search.press("Enter")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.locator("#results").get_by_role("link", name=child_id).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Child {child_id}")
    check_accessibility(page)

    # 2. "Records request" opens the form with the child ID filled in.
    page.get_by_role("link", name="Records request").click()
    expect(page).to_have_url(re.compile(r"/records-requests\?child_id="))
    expect(page.get_by_role("heading", name="Records request", level=1)).to_be_visible()
    expect(page.get_by_label("Child ID")).to_have_value(child_id)
    check_accessibility(page)

    # 3. Sent without a version: the error summary names the field.
    page.get_by_role("button", name="Produce the records").click()
    expect_error_summary(page, "Select which version of the records to produce")
    expect(page.get_by_label("Child ID")).to_have_value(child_id)
    check_accessibility(page)

    # 4. The redacted version: a ZIP with the PDF and the JSON (and its README).
    page.get_by_role("radio", name=re.compile("^Redacted")).check()
    # Making the PDF takes a few seconds, longer on a busy machine than the journeys' usual wait for a page.
    with page.expect_download(timeout=PRODUCE_TIMEOUT_MS) as download:
        page.get_by_role("button", name="Produce the records").click(timeout=PRODUCE_TIMEOUT_MS)
    assert re.fullmatch(
        rf"records-{re.escape(child_id)}-redacted-\d{{4}}-\d{{2}}-\d{{2}}\.zip", download.value.suggested_filename
    )
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert {"records.json", "records.pdf"} <= set(files) and "README.txt" in files
    records = json.loads(files["records.json"])
    assert records["about"]["child_id"] == child_id and records["about"]["variant"] == "redacted"
    assert records["audits"], "the demo's completed audit of the case is in the records"
    assert files["records.pdf"].startswith(b"%PDF")
    pdf = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(files["records.pdf"])).pages).split())
    assert f"Records held about child {child_id}" in pdf and "Staff member A" in pdf
    text = json.dumps(records, ensure_ascii=False)
    for username, full_name in people:
        assert full_name not in text and full_name not in pdf, full_name
        if not re.fullmatch(r"[A-Za-z]+", username):  # identifier-like: replaced everywhere
            assert username not in text and username not in pdf, username

    # 5. The page stays as it was: the form, ready for another request.
    expect(page.get_by_role("heading", name="Records request", level=1)).to_be_visible()
