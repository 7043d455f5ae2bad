"""The import pages: upload the Annex A sample, see the preview, confirm; errors re-render; CSRF is enforced."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.accounts.roles import Role
from app.cases import service
from app.cases.models import Case, CaseImport
from app.cases.service import READING, WRITING
from tests.conftest import SHARED_DATA
from tests.factories import csrf_token, login, make_user, page_text

ANNEX_A = SHARED_DATA / "annex-a-sample/Annex_A.xlsx"
HEADER = "child_id,case_type,status,start_date,team"


@pytest.fixture
def lead_browser(client, db):
    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    assert login(client, "qa").status_code == 303
    return client


def upload(client, content: bytes, name: str, fields: dict | None = None):
    data = {"format": "csv", "mode": "all_or_nothing", "csrf_token": csrf_token(client), **(fields or {})}
    return client.post(
        "/imports/new", data=data, files=[("file", (name, content, "application/octet-stream"))], follow_redirects=False
    )


def case_count(db) -> int:
    return db.execute(select(func.count()).select_from(Case)).scalar_one()


def test_empty_list_then_upload_preview_confirm_with_the_annex_a_sample(lead_browser, db):
    listing = page_text(lead_browser.get("/imports").text)
    assert "No extracts have been imported yet" in listing and "Upload an extract" in listing
    assert ANNEX_A.exists()
    response = upload(lead_browser, ANNEX_A.read_bytes(), "Annex_A.xlsx", {"format": "annex_a"})
    assert response.status_code == 303
    preview_url = response.headers["location"]
    preview = page_text(lead_browser.get(preview_url).text)
    assert "Check the import" in preview
    match = re.search(r"Cases to create (\d+)", preview)
    assert match and int(match.group(1)) > 0
    assert "New teams" in preview and "Children in Care Team 1" in preview and "Unassigned" in preview
    assert "Confirm import" in preview
    assert case_count(db) == 0

    confirm = lead_browser.post(
        f"{preview_url}/confirm", data={"csrf_token": csrf_token(lead_browser)}, follow_redirects=False
    )
    assert confirm.status_code == 303
    done = page_text(lead_browser.get(confirm.headers["location"]).text)
    assert "Extract imported" in done and f"{match.group(1)} created" in done
    assert case_count(db) == int(match.group(1))
    # A second click shows the result and writes nothing more.
    again = lead_browser.post(
        f"{preview_url}/confirm", data={"csrf_token": csrf_token(lead_browser)}, follow_redirects=False
    )
    assert again.status_code == 303 and case_count(db) == int(match.group(1))
    listing = page_text(lead_browser.get("/imports").text)
    assert "Annex_A.xlsx" in listing and "Imported" in listing


def test_confirm_queues_the_import_and_the_page_follows_its_progress(lead_browser, db):
    response = upload(lead_browser, f"{HEADER}\nA1,cin,open,01/01/2025,Team X\n".encode(), "r.csv")
    url = response.headers["location"]
    confirmed = lead_browser.post(
        f"{url}/confirm", headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(lead_browser)}
    )
    # The import runs after the response in the app; the test client runs it in line (tests/conftest.py).
    assert confirmed.status_code == 200 and confirmed.headers["HX-Redirect"] == url
    assert case_count(db) == 1
    finished = lead_browser.get(f"{url}/progress", headers={"HX-Request": "true"})
    assert finished.status_code == 200 and finished.headers["HX-Refresh"] == "true"
    assert "Extract imported" in page_text(lead_browser.get(f"{url}/progress").text)  # without htmx: the page


def _queued_import(lead_browser, db, **values) -> tuple[str, CaseImport]:
    url = upload(lead_browser, f"{HEADER}\nA1,cin,open,01/01/2025,Team X\n".encode(), "r.csv").headers["location"]
    case_import = db.get(CaseImport, int(url.rsplit("/", 1)[1]))
    for name, value in {"status": "importing", "progress_at": clock.now(), **values}.items():
        setattr(case_import, name, value)
    db.add(case_import)
    db.flush()
    return url, case_import


def test_a_running_import_shows_its_phase_and_counts_and_polls(lead_browser, db):
    url, _ = _queued_import(lead_browser, db, phase=WRITING, rows_done=1500, rows_total=6000)
    page = lead_browser.get(url)
    assert "Writing the changes: 1,500 of 6,000" in page_text(page.text)
    assert f'hx-get="{url}/progress"' in page.text and 'value="55"' in page.text  # 40 + 60 * 1500 / 6000
    assert "Confirm import" not in page_text(page.text)
    fragment = lead_browser.get(f"{url}/progress", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in fragment.headers and "1,500 of 6,000" in page_text(fragment.text)
    assert "<html" not in fragment.text


def test_a_stopped_import_can_be_tried_again_and_then_confirmed(lead_browser, db):
    url, case_import = _queued_import(lead_browser, db, phase=READING, progress_at=clock.now() - timedelta(minutes=11))
    text = page_text(lead_browser.get(url).text)
    assert "the import stopped before it finished (the server may have restarted)" in text and "Try again" in text
    retried = lead_browser.post(f"{url}/retry", data={"csrf_token": csrf_token(lead_browser)}, follow_redirects=False)
    assert retried.status_code == 303
    db.refresh(case_import)
    assert case_import.status == "previewed" and "Confirm import" in page_text(lead_browser.get(url).text)
    lead_browser.post(f"{url}/confirm", data={"csrf_token": csrf_token(lead_browser)})
    assert case_count(db) == 1


def test_a_running_import_cannot_be_tried_again(lead_browser, db):
    url, case_import = _queued_import(lead_browser, db, phase=READING)
    lead_browser.post(f"{url}/retry", data={"csrf_token": csrf_token(lead_browser)})
    db.refresh(case_import)
    assert case_import.status == "importing"


def test_an_import_that_fails_unexpectedly_writes_nothing_and_logs_no_personal_data(
    lead_browser, db, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("child A1 could not be written")

    monkeypatch.setattr(service, "import_write", broken)
    url = upload(lead_browser, f"{HEADER}\nA1,cin,open,01/01/2025,Team X\n".encode(), "r.csv").headers["location"]
    lead_browser.post(f"{url}/confirm", data={"csrf_token": csrf_token(lead_browser)})
    assert case_count(db) == 0
    text = page_text(lead_browser.get(url).text)
    assert "The import did not finish" in text and "because of an unexpected problem" in text and "Try again" in text
    assert "RuntimeError" in caplog.text and "A1" not in caplog.text


def test_preview_says_which_open_cases_will_close(lead_browser, db):
    url = upload(lead_browser, f"{HEADER}\nA1,cin,open,01/01/2025,\nA2,cin,open,01/01/2025,\n".encode(), "r.csv")
    lead_browser.post(url.headers["location"] + "/confirm", data={"csrf_token": csrf_token(lead_browser)})
    second = upload(lead_browser, f"{HEADER}\nA1,cin,open,01/01/2025,\n".encode(), "r.csv", {"full": "yes"})
    page = lead_browser.get(second.headers["location"])
    preview = page_text(page.text)
    assert "Kinds of case it covers Child in need" in preview
    assert "1 open case of the kinds this extract covers (Child in need) is not in it and will be closed" in preview
    a2 = db.execute(select(Case).where(Case.child_id == "A2")).scalar_one()
    assert f'<a class="govuk-link" href="/cases/{a2.id}">A2</a>' in page.text


def test_a_rejected_extract_shows_the_errors_and_no_confirm_button(lead_browser, db):
    response = upload(lead_browser, f"{HEADER}\nA1,cin,open,45/01/2025,\n,cla,open,,\n".encode(), "bad.csv")
    page = lead_browser.get(response.headers["location"])
    text = page_text(page.text)
    assert "This extract cannot be imported" in text and "Nothing has been imported" in text
    assert "bad.csv 2 start_date 45/01/2025" in text and "The child ID is missing" in text
    assert "Confirm import" not in text and 'href="/imports/new"' in page.text
    refused = lead_browser.post(
        response.headers["location"] + "/confirm", data={"csrf_token": csrf_token(lead_browser)}
    )
    assert refused.status_code == 422 and case_count(db) == 0


def test_no_file_and_no_format_re_render_the_form_with_an_error_summary(lead_browser, db):
    response = lead_browser.post(
        "/imports/new", data={"mode": "all_or_nothing", "csrf_token": csrf_token(lead_browser)}, follow_redirects=False
    )
    assert response.status_code == 400
    text = page_text(response.text)
    assert "There is a problem" in text
    assert "Select the extract file" in text and "Select the format of the extract" in text
    assert 'href="#file"' in response.text and 'href="#format"' in response.text
    assert db.execute(select(func.count()).select_from(CaseImport)).scalar_one() == 0


def test_upload_without_a_csrf_token_is_refused(lead_browser, db):
    response = lead_browser.post(
        "/imports/new",
        data={"format": "csv"},
        files=[("file", ("r.csv", f"{HEADER}\nA1,cin,open,,\n".encode(), "text/csv"))],
        follow_redirects=False,
    )
    assert response.status_code == 403 and "could not be sent" in page_text(response.text)
    assert db.execute(select(func.count()).select_from(CaseImport)).scalar_one() == 0


def test_confirm_without_a_csrf_token_is_refused(lead_browser, db):
    response = upload(lead_browser, f"{HEADER}\nA1,cin,open,,\n".encode(), "r.csv")
    refused = lead_browser.post(response.headers["location"] + "/confirm", data={}, follow_redirects=False)
    assert refused.status_code == 403 and case_count(db) == 0


def test_other_roles_cannot_reach_the_import_pages(client, db):
    make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,))
    login(client, "hos")
    assert client.get("/imports").status_code == 403
    assert client.get("/imports/new").status_code == 403
    assert 'href="/imports"' not in client.get("/").text
