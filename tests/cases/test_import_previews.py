"""Issue 17: an import writes only what its preview showed, a preview can be discarded and expires, and a full
import closes only cases of the kinds its extract covers. As the QA lead meets it (pages, API, CLI), and at the
service level."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.cases import service
from app.cases.models import Case, CaseImport, CaseImportFile
from app.cases.readers import UploadedFile
from tests.conftest import SHARED_DATA, TEST_NOW
from tests.factories import api_headers, csrf_token, login, make_user, page_text

HEADER = "child_id,case_type,status,start_date,team"
ANNEX_A = SHARED_DATA / "annex-a-sample/Annex_A.xlsx"
SSDA903 = [SHARED_DATA / "ssda903-fake" / name for name in ("header.csv", "episodes.csv", "reviews.csv", "missing.csv")]
CHANGED = "The register changed since this preview: check the new figures and confirm again"


@pytest.fixture(autouse=True)
def _still_clock(set_clock):
    """The clock stands at TEST_NOW, so expiry times are exact; tests move it."""
    set_clock(TEST_NOW, running=False)


@pytest.fixture
def lead_browser(client, db):
    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    assert login(client, "qa").status_code == 303
    return client


def upload(client, *files: tuple[str, bytes], format: str = "csv", full: bool = False) -> str:
    data = {"format": format, "mode": "all_or_nothing", "csrf_token": csrf_token(client)}
    if full:
        data["full"] = "yes"
    response = client.post(
        "/imports/new",
        data=data,
        files=[("file", (name, content, "application/octet-stream")) for name, content in files],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def csv(*rows: str) -> tuple[str, bytes]:
    return ("register.csv", "\n".join([HEADER, *rows]).encode())


def confirm(client, url: str):
    return client.post(f"{url}/confirm", data={"csrf_token": csrf_token(client)}, follow_redirects=False)


def figure(text: str, label: str) -> int:
    match = re.search(rf"{label} (\d+)", text)
    assert match, f"{label} not on the page"
    return int(match.group(1))


def register(db) -> dict[str, str]:
    """child ID -> status."""
    db.expire_all()
    return dict(db.execute(select(Case.child_id, Case.status)).all())


def import_of(db, url: str) -> CaseImport:
    db.expire_all()
    case_import = db.get(CaseImport, int(url.rsplit("/", 1)[1]))
    assert case_import is not None
    return case_import


def events(db, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


# ---------------------------------------------------------------- 5. confirm writes what the preview showed


def test_confirming_after_the_register_changed_shows_the_new_preview_then_writes_exactly_that(lead_browser, db):
    preview_a = upload(lead_browser, csv("A1,cla,open,01/01/2025,", "A2,cla,open,01/01/2025,"), full=True)
    shown = page_text(lead_browser.get(preview_a).text)
    assert (figure(shown, "Cases to create"), figure(shown, "Open cases to close")) == (2, 0)

    # Someone imports another extract for real in the meantime.
    extract_b = upload(lead_browser, csv("A1,cla,open,01/01/2025,", "X9,cla,open,01/01/2025,"))
    confirm(lead_browser, extract_b)
    assert register(db) == {"A1": "open", "X9": "open"}

    # Confirming A now would not do what its preview said: nothing is written, the new preview is shown.
    response = confirm(lead_browser, preview_a)
    assert response.status_code == 303
    assert register(db) == {"A1": "open", "X9": "open"}
    page = page_text(lead_browser.get(preview_a).text)
    assert CHANGED in page and "Check the import" in page and "Confirm import" in page
    assert (figure(page, "Cases to create"), figure(page, "Cases unchanged"), figure(page, "Open cases to close")) == (
        1,
        1,
        1,
    )
    assert "Cases to create: 2 in the preview, 1 now" in page
    assert "Open cases to close: 0 in the preview, 1 now" in page
    assert "X9" in page  # the case that would now close, by child ID
    assert import_of(db, preview_a).status == "previewed"
    assert len(events(db, "case_import.preview_changed")) == 1

    # Confirming the refreshed preview writes exactly what it showed.
    assert confirm(lead_browser, preview_a).status_code == 303
    done = page_text(lead_browser.get(preview_a).text)
    assert "Extract imported" in done and "1 created, 0 updated, 1 closed" in done and CHANGED not in done
    assert register(db) == {"A1": "open", "A2": "open", "X9": "closed"}


def test_a_preview_that_still_holds_is_written_at_once(lead_browser, db):
    preview = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    confirm(lead_browser, preview)
    assert import_of(db, preview).status == "committed" and register(db) == {"A1": "open"}
    assert events(db, "case_import.preview_changed") == []


# ---------------------------------------------------------------- 5. discard and expiry


def test_a_preview_can_be_discarded_after_a_confirmation_and_never_confirmed(lead_browser, db):
    preview = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    page = lead_browser.get(preview)
    assert f'href="{preview}/discard"' in page.text and "Discard this preview" in page_text(page.text)
    asking = page_text(lead_browser.get(f"{preview}/discard").text)
    assert "Are you sure you want to discard this preview?" in asking
    assert import_of(db, preview).status == "previewed"  # asking changes nothing

    discarded = lead_browser.post(
        f"{preview}/discard", data={"csrf_token": csrf_token(lead_browser)}, follow_redirects=False
    )
    assert discarded.status_code == 303
    page = page_text(lead_browser.get(preview).text)
    assert "Preview discarded" in page and "Confirm import" not in page and "Discard this preview" not in page
    assert "Discarded" in page_text(lead_browser.get("/imports").text)
    case_import = import_of(db, preview)
    assert case_import.status == "discarded" and case_import.created == 1  # kept on record, with its figures
    files = select(func.count()).select_from(CaseImportFile).where(CaseImportFile.import_id == case_import.id)
    assert db.execute(files).scalar_one() == 0
    [event] = events(db, "case_import.discard")
    assert event.entity_id == str(case_import.id) and event.actor_label == "qa"

    # A stale form (another tab) cannot confirm it: a clear message, nothing written.
    refused = confirm(lead_browser, preview)
    assert refused.status_code == 409
    assert "This preview was discarded, so nothing was imported" in page_text(refused.text)
    assert register(db) == {}
    again = lead_browser.post(f"{preview}/discard", data={"csrf_token": csrf_token(lead_browser)})
    assert again.status_code == 200 and len(events(db, "case_import.discard")) == 1


def test_discarding_without_a_csrf_token_is_refused(lead_browser, db):
    preview = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    assert lead_browser.post(f"{preview}/discard", data={}, follow_redirects=False).status_code == 403
    assert import_of(db, preview).status == "previewed"


def test_a_preview_expires_after_the_setting_and_can_no_longer_be_confirmed(lead_browser, db, set_clock, app):
    preview = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    hours = app.state.settings.import_preview_expiry_hours
    assert import_of(db, preview).expires_at == TEST_NOW + timedelta(hours=hours)
    assert "You can confirm this preview until" in page_text(lead_browser.get(preview).text)

    set_clock(TEST_NOW + timedelta(hours=hours, seconds=-1), running=False)
    login(lead_browser, "qa")  # a day later: signed in again
    assert "Confirm import" in page_text(lead_browser.get(preview).text)
    set_clock(TEST_NOW + timedelta(hours=hours), running=False)
    page = page_text(lead_browser.get(preview).text)
    assert "Preview expired" in page and "Confirm import" not in page
    assert "Expired" in page_text(lead_browser.get("/imports").text)
    [event] = events(db, "case_import.expire")
    assert event.actor_id is None

    refused = confirm(lead_browser, preview)
    assert refused.status_code == 409
    assert "This preview expired before it was confirmed, so nothing was imported" in page_text(refused.text)
    assert register(db) == {}


def test_a_stale_confirmation_of_an_expired_preview_is_refused(lead_browser, db, set_clock):
    preview = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    set_clock(TEST_NOW + timedelta(days=30), running=False)
    login(lead_browser, "qa")
    refused = confirm(lead_browser, preview)
    assert refused.status_code == 409 and "expired" in page_text(refused.text) and register(db) == {}
    assert import_of(db, preview).status == "expired"


def test_the_expiry_comes_from_the_setting(lead_browser, db, app):
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"import_preview_expiry_hours": 2})
    try:
        preview = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    finally:
        app.state.settings = settings
    assert import_of(db, preview).expires_at == TEST_NOW + timedelta(hours=2)


def test_the_api_shows_discarded_and_expired_previews(lead_browser, db, set_clock):
    discarded = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    lead_browser.post(f"{discarded}/discard", data={"csrf_token": csrf_token(lead_browser)})
    waiting = upload(lead_browser, csv("A2,cin,open,01/01/2025,"))
    body = lead_browser.get(f"/api/v1/imports/{import_of(db, waiting).id}", headers=api_headers(lead_browser, "qa"))
    assert body.json()["status"] == "previewed" and body.json()["expires_at"].startswith("2026-11-27T12:00:00")
    set_clock(TEST_NOW + timedelta(days=2), running=False)
    listing = lead_browser.get("/api/v1/imports", headers=api_headers(lead_browser, "qa")).json()
    assert [i["status"] for i in listing["items"]] == ["expired", "discarded"]


# ---------------------------------------------------------------- 6. a full import closes only what it covers


def _open_by_type(db) -> dict[str, set[str]]:
    db.expire_all()
    found: dict[str, set[str]] = {}
    for child_id, case_type in db.execute(select(Case.child_id, Case.case_type).where(Case.status == "open")):
        found.setdefault(case_type, set()).add(child_id)
    return found


@pytest.mark.skipif(not (ANNEX_A.is_file() and SSDA903[0].is_file()), reason="the sample extracts are not available")
def test_an_ssda903_return_closes_only_children_looked_after_never_cin_or_cp(lead_browser, db):
    annex_a = upload(lead_browser, ("Annex_A.xlsx", ANNEX_A.read_bytes()), format="annex_a")
    confirm(lead_browser, annex_a)
    before = _open_by_type(db)
    assert before["cla"] and before["cin"] and before["cp"]

    preview = upload(lead_browser, *((path.name, path.read_bytes()) for path in SSDA903), format="ssda903", full=True)
    page = lead_browser.get(preview)
    text = page_text(page.text)
    n = len(before["cla"])
    assert "Kinds of case it covers Child looked after" in text
    assert f"{n} open cases of the kinds this extract covers (Child looked after) are not in it and will be closed" in (
        text
    )
    assert all(child_id in text for child_id in before["cla"])
    assert not any(child_id in text for child_id in before["cin"] | before["cp"])

    confirm(lead_browser, preview)
    after = _open_by_type(db)
    assert not (after["cla"] & before["cla"])  # every looked-after child absent from the return: closed
    assert after["cin"] == before["cin"] and after["cp"] == before["cp"]  # never its business
    assert {k: v for k, v in after.items() if k != "cla"} == {k: v for k, v in before.items() if k != "cla"}
    assert import_of(db, preview).closed == n


@pytest.mark.skipif(not (ANNEX_A.is_file() and SSDA903[0].is_file()), reason="the sample extracts are not available")
def test_the_api_full_import_of_an_ssda903_return_closes_only_cla_cases(client, db):
    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    headers = api_headers(client, "qa")
    client.post(
        "/api/v1/imports",
        headers=headers,
        files=[("file", ("Annex_A.xlsx", ANNEX_A.read_bytes(), "application/octet-stream"))],
        data={"format": "annex_a"},
    )
    before = _open_by_type(db)
    files = [("file", (path.name, path.read_bytes(), "text/csv")) for path in SSDA903]
    response = client.post("/api/v1/imports", headers=headers, files=files, data={"format": "ssda903", "full": "true"})
    assert response.status_code == 201, response.text
    after = _open_by_type(db)
    assert after.get("cin") == before["cin"] and after.get("cp") == before["cp"]  # never its business
    assert not (after.get("cla", set()) & before["cla"])
    body = response.json()
    assert body["full"] is True and body["covers"] == ["cla"] and body["closed"] == len(before["cla"])
    assert {(c["child_id"], c["case_type"]) for c in body["closing"]} == {(child, "cla") for child in before["cla"]}


def test_the_upload_page_does_not_close_absent_cases_unless_ticked(lead_browser, db):
    form = lead_browser.get("/imports/new").text
    checkbox = re.search(r'<input[^>]*name="full"[^>]*>', form)
    assert checkbox and "checked" not in checkbox.group(0)
    assert "an SSDA903 return covers children looked after" in page_text(form)
    confirm(lead_browser, upload(lead_browser, csv("A1,cin,open,01/01/2025,", "A2,cin,open,01/01/2025,")))
    preview = upload(lead_browser, csv("A1,cin,open,01/01/2025,"))
    assert "Open cases missing from this extract are left open" in page_text(lead_browser.get(preview).text)
    confirm(lead_browser, preview)
    assert register(db) == {"A1": "open", "A2": "open"}


def test_the_api_does_not_close_absent_cases_unless_asked(client, db):
    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    headers = api_headers(client, "qa")

    def post(content: str, **data):
        files = [("file", ("r.csv", f"{HEADER}\n{content}".encode(), "text/csv"))]
        return client.post("/api/v1/imports", headers=headers, files=files, data={"format": "csv", **data}).json()

    post("A1,cin,open,01/01/2025,\nA2,cin,open,01/01/2025,")
    default = post("A1,cin,open,01/01/2025,")
    assert (default["full"], default["closed"]) == (False, 0) and register(db)["A2"] == "open"
    full = post("A1,cin,open,01/01/2025,", full="true")
    assert (full["closed"], full["covers"]) == (1, ["cin"]) and register(db)["A2"] == "closed"
    assert client.get("/openapi.json").json()  # the contract's description of `full` is in the schema
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    described = next(s["properties"]["full"] for name, s in schema.items() if "full" in s.get("properties", {}))
    assert described["default"] is False and "kinds this extract covers" in described["description"]


def test_bad_input_names_the_field_never_a_500(lead_browser, db):
    files = [("file", ("r.csv", f"{HEADER}\nA1,cin,open,,".encode(), "text/csv"))]
    headers = api_headers(lead_browser, "qa")
    response = lead_browser.post(
        "/api/v1/imports", headers=headers, files=files, data={"format": "csv", "full": "maybe"}
    )
    assert response.status_code == 422 and ["body", "full"] in [d["loc"] for d in response.json()["detail"]]
    assert register(db) == {}
    assert lead_browser.get("/imports/abc/discard").status_code in (400, 404, 422)
    assert lead_browser.get("/imports/99999999/discard").status_code == 404
    refused = lead_browser.post("/imports/99999999/discard", data={"csrf_token": csrf_token(lead_browser)})
    assert refused.status_code == 404


# ---------------------------------------------------------------- the service underneath

TODAY = date(2025, 6, 1)


def _prepare(db, *rows: str, **kwargs) -> CaseImport:
    files = [UploadedFile("r.csv", "\n".join([HEADER, *rows]).encode())]
    return service.import_prepare(db, files=files, format="csv", actor=None, today=TODAY, **kwargs)


def _run(db, *rows: str, **kwargs) -> CaseImport:
    files = [UploadedFile("r.csv", "\n".join([HEADER, *rows]).encode())]
    return service.import_run(db, files=files, format="csv", actor=None, today=TODAY, **kwargs)


def test_commit_refuses_a_preview_the_register_has_moved_past_then_writes_the_new_one(db, set_clock):
    preview = _prepare(db, "A1,cp,open,01/01/2025,", "A2,cp,open,01/01/2025,", full=True, expires_in=timedelta(hours=5))
    set_clock(TEST_NOW + timedelta(hours=1), running=False)
    _run(db, "A1,cp,open,01/01/2025,", "Z1,cp,open,01/01/2025,", "Z2,cin,open,01/01/2025,")
    with pytest.raises(service.PreviewChanged) as refused:
        service.import_commit(db, case_import=preview, actor=None, today=TODAY)
    assert refused.value.status_code == 409 and "confirm again" in refused.value.message
    assert (preview.status, preview.created, preview.unchanged, preview.closed) == ("previewed", 1, 1, 1)
    assert [c["child_id"] for c in preview.closing] == ["Z1"]  # Z2 is a cin case: not a kind this file covers
    assert preview.expires_at == TEST_NOW + timedelta(hours=6)  # the same five hours, from now
    assert register(db) == {"A1": "open", "Z1": "open", "Z2": "open"}
    service.import_commit(db, case_import=preview, actor=None, today=TODAY)
    assert register(db) == {"A1": "open", "A2": "open", "Z1": "closed", "Z2": "open"}


def test_same_counts_but_a_different_case_to_close_is_a_change(db):
    _run(db, "A1,cla,open,01/01/2025,", "Z1,cla,open,01/01/2025,")
    preview = _prepare(db, "A1,cla,open,01/01/2025,", full=True)
    assert [c["child_id"] for c in preview.closing] == ["Z1"]
    _run(db, "A1,cla,open,01/01/2025,", "Z2,cla,open,01/01/2025,", full=True)  # closes Z1, opens Z2
    with pytest.raises(service.PreviewChanged):
        service.import_commit(db, case_import=preview, actor=None, today=TODAY)
    assert preview.changes == ["Different cases would be closed (still 1)"]
    assert [c["child_id"] for c in preview.closing] == ["Z2"]


def test_a_discarded_or_expired_preview_cannot_be_committed_or_discarded_again(db, set_clock):
    discarded = _prepare(db, "A1,cin,open,01/01/2025,")
    service.import_discard(db, case_import=discarded, actor=None)
    with pytest.raises(service.PreviewClosed):
        service.import_commit(db, case_import=discarded, actor=None, today=TODAY)
    with pytest.raises(service.PreviewClosed):
        service.import_discard(db, case_import=discarded, actor=None)
    expiring = _prepare(db, "A1,cin,open,01/01/2025,", expires_in=timedelta(hours=1))
    set_clock(TEST_NOW + timedelta(hours=1), running=False)
    with pytest.raises(service.PreviewClosed):
        service.import_commit(db, case_import=expiring, actor=None, today=TODAY)
    assert (expiring.status, expiring.finished_at) == ("expired", TEST_NOW + timedelta(hours=1))
    assert register(db) == {}
    committed = _run(db, "A1,cin,open,01/01/2025,")
    with pytest.raises(service.Conflict):
        service.import_discard(db, case_import=committed, actor=None)
