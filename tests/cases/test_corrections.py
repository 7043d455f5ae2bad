"""Correcting a register fact: the form and its review, the API, the history on the case page and in the audit trail,
who may, stale versions, and how later imports keep or supersede a correction."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.cases import service as import_service
from app.cases.corrections.service import case_fact_correct
from app.cases.models import Case, CaseFactCorrection
from app.cases.readers import UploadedFile
from app.cli import alembic_upgrade
from app.db import make_engine
from app.errors import Conflict, ValidationFailed
from tests.conftest import fresh_database_url, using_postgres
from tests.factories import api_headers, login, make_team, make_user, page_text, post_form

TODAY = date(2026, 11, 26)  # TEST_NOW's day
HEADER = "child_id,case_type,status,start_date,team,legal_status,missing_12m,last_statutory_visit,disability"
ROWS = {
    "K1": "K1,cla,open,01/02/2024,North Team,C2,0,01/11/2026,no",
    "K2": "K2,cla,open,01/03/2024,North Team,V2,1,02/11/2026,yes",
}
REASON = "The placement order dated 3 February 2026 is on the child's file"


def extract(*lines: str) -> list[UploadedFile]:
    return [UploadedFile("register.csv", "\n".join([HEADER, *lines]).encode())]


def run_import(db, lead, *lines: str):
    return import_service.import_run(db, files=extract(*lines), format="csv", actor=lead, today=TODAY)


@pytest.fixture
def world(db):
    team = make_team(db, name="North Team", service_area="Children in care")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,))
    hos = make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,))
    hos.service_area_id = team.service_area_id
    auditor = make_user(db, username="auditor", roles=(Role.AUDITOR,))
    viewer = make_user(db, username="viewer", roles=(Role.VIEWER,))
    db.add(hos)
    db.flush()
    imported = run_import(db, lead, *ROWS.values())
    assert imported.created == 2
    case = db.execute(select(Case).where(Case.child_id == "K1")).scalar_one()
    return {"team": team, "lead": lead, "hos": hos, "auditor": auditor, "viewer": viewer, "case": case}


def fresh(db, case: Case) -> Case:
    db.expire_all()
    return db.get(Case, case.id)


def corrections(db, case: Case) -> list[CaseFactCorrection]:
    db.expire_all()
    return list(
        db.execute(
            select(CaseFactCorrection).where(CaseFactCorrection.case_id == case.id).order_by(CaseFactCorrection.id)
        ).scalars()
    )


def correct(db, world, field="legal_status", value="E1", reason=REASON, version=None):
    case = fresh(db, world["case"])
    return case_fact_correct(
        db,
        case=case,
        field=field,
        value=value,
        reason=reason,
        actor=world["lead"],
        expected_version=case.version if version is None else version,
        today=TODAY,
    )


# --- The page: the form, the review, the history -------------------------------------------------------------------


def test_qa_lead_corrects_a_fact_through_the_form_and_its_review(client, db, world):
    case = world["case"]
    login(client, "lead")
    page = client.get(f"/cases/{case.id}")
    assert "None of this case’s facts has been corrected." in page_text(page.text)
    assert f'href="/cases/{case.id}/corrections/new"' in page.text

    form = client.get(f"/cases/{case.id}/corrections/new?field=legal_status")
    assert form.status_code == 200
    assert '<option value="legal_status" selected>Legal status (now: C2)</option>' in form.text

    posted = {"field": "legal_status", "value": "E1: Placement order", "reason": REASON, "version": str(case.version)}
    review = post_form(client, f"/cases/{case.id}/corrections/new", {**posted, "action": "review"})
    assert review.status_code == 200
    text = page_text(review.text)
    assert "Check the correction" in text and "Fact Legal status Now C2 Corrected to E1" in text
    assert corrections(db, case) == [] and fresh(db, case).legal_status == "C2"  # nothing saved by the review

    changed = post_form(client, f"/cases/{case.id}/corrections/new", {**posted, "action": "change"})
    assert changed.status_code == 200 and 'value="E1: Placement order"' in changed.text

    version, facts_hash = fresh(db, case).version, fresh(db, case).facts_hash
    saved = post_form(client, f"/cases/{case.id}/corrections/new", {**posted, "action": "confirm"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/cases/{case.id}?corrected=1#corrections"
    after = fresh(db, case)
    assert after.legal_status == "E1" and after.version == version + 1
    assert after.facts_hash == facts_hash  # still what the case system said: an unchanged extract stays unchanged

    [correction] = corrections(db, case)
    assert (correction.field, correction.old_value, correction.new_value, correction.source_value) == (
        "legal_status",
        "C2",
        "E1",
        "C2",
    )
    assert correction.reason == REASON and correction.corrected_by_id == world["lead"].id
    assert correction.superseded_at is None

    event = db.execute(select(AuditEvent).where(AuditEvent.action == "case.correct")).scalar_one()
    assert (event.entity_type, event.entity_id, event.actor_id) == ("case", str(case.id), world["lead"].id)
    assert event.before == {"field": "legal_status", "value": "C2"}
    assert event.after == {"field": "legal_status", "value": "E1", "reason": REASON, "correction_id": correction.id}
    assert "K1" in event.summary

    shown = client.get(saved.headers["location"])
    text = html.unescape(page_text(shown.text))
    assert "Correction saved" in text
    assert f"Legal status C2 E1 {REASON} Lead 26 Nov 2026, 12:00 In force" in text


def test_the_form_names_each_problem_and_saves_nothing(client, db, world):
    case = world["case"]
    login(client, "lead")
    url = f"/cases/{case.id}/corrections/new"
    bad = post_form(client, url, {"field": "missing_12m", "value": "lots", "reason": "", "version": str(case.version)})
    assert bad.status_code == 400
    text = page_text(bad.text)
    assert "There is a problem" in text
    assert "Missing episodes in the last 12 months must be a whole number, 0 or more" in text
    assert "Give the reason for the correction" in text
    assert 'href="#value"' in bad.text and 'href="#reason"' in bad.text

    for action in ("review", "confirm"):
        missing = post_form(client, url, {"field": "", "value": "E1", "reason": REASON, "action": action})
        assert missing.status_code == 400 and "Select the fact to correct" in page_text(missing.text)
    scope = post_form(client, url, {"field": "worker_name", "value": "Someone Else", "reason": REASON})
    assert scope.status_code == 400 and "corrected in the case system only" in page_text(scope.text)
    same = post_form(client, url, {"field": "legal_status", "value": "C2", "reason": REASON, "action": "confirm"})
    assert same.status_code == 400 and "Legal status is already C2" in page_text(same.text)
    short = post_form(client, url, {"field": "legal_status", "value": "E1", "reason": "wrong", "action": "confirm"})
    assert short.status_code == 400 and "10 characters or more" in page_text(short.text)
    future = post_form(client, url, {"field": "last_statutory_visit", "value": "1/1/2027", "reason": REASON})
    assert future.status_code == 400 and "Last statutory visit cannot be in the future" in page_text(future.text)

    assert corrections(db, case) == [] and fresh(db, case).legal_status == "C2"
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "case.correct")).first() is None


def test_a_stale_form_is_refused_and_shows_the_case_as_it_now_is(client, db, world):
    case = world["case"]
    login(client, "lead")
    read_at = fresh(db, case).version
    correct(db, world, field="missing_12m", value="2")  # someone else, meanwhile
    response = post_form(
        client,
        f"/cases/{case.id}/corrections/new",
        {"field": "legal_status", "value": "E1", "reason": REASON, "version": str(read_at), "action": "confirm"},
    )
    assert response.status_code == 409
    assert "Someone else changed this case since you opened the form" in page_text(response.text)
    assert f'name="version" value="{read_at + 1}"' in response.text
    assert fresh(db, case).legal_status == "C2" and [c.field for c in corrections(db, case)] == ["missing_12m"]


def test_only_the_qa_lead_may_correct_but_whoever_sees_the_case_sees_the_history(client, db, world):
    case = world["case"]
    correct(db, world)
    url = f"/cases/{case.id}/corrections/new"
    for username in ("hos", "auditor", "viewer"):
        client.cookies.clear()
        login(client, username)
        assert client.get(url).status_code == 403, username
        refused = post_form(
            client, url, {"field": "legal_status", "value": "V2", "reason": REASON, "action": "confirm"}
        )
        assert refused.status_code == 403, username
    client.cookies.clear()
    login(client, "hos")  # heads the case's area: sees the case and its history, without the button
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert "Legal status C2 E1" in page_text(page.text) and url not in page.text
    assert fresh(db, case).legal_status == "E1" and len(corrections(db, case)) == 1


# --- The API -------------------------------------------------------------------------------------------------------


def test_api_corrects_a_fact_and_lists_the_history(client, db, world):
    case = world["case"]
    headers = api_headers(client, "lead")
    version = fresh(db, case).version
    response = client.post(
        f"/api/v1/cases/{case.id}/corrections",
        headers=headers,
        json={"field": "last_statutory_visit", "value": "2026-11-20", "reason": REASON, "version": version},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["field"], body["field_label"], body["old_value"], body["new_value"]) == (
        "last_statutory_visit",
        "Last statutory visit",
        "2026-11-01",
        "2026-11-20",
    )
    assert body["in_force"] is True and body["superseded_by"] is None and body["case_version"] == version + 1
    assert body["corrected_by"] == {"id": world["lead"].id, "name": "Lead"}
    assert fresh(db, case).last_statutory_visit == date(2026, 11, 20)

    typed = client.post(
        f"/api/v1/cases/{case.id}/corrections",
        headers=headers,
        json={"field": "disability", "value": True, "reason": REASON, "version": version + 1},
    )
    assert typed.status_code == 201 and typed.json()["new_value"] is True

    listed = client.get(f"/api/v1/cases/{case.id}/corrections", headers=api_headers(client, "hos"))
    assert listed.status_code == 200
    page = listed.json()
    assert (page["total"], page["page"], page["page_size"]) == (2, 1, 50)
    assert [item["field"] for item in page["items"]] == ["disability", "last_statutory_visit"]  # newest first
    viewed = db.execute(select(AuditEvent).where(AuditEvent.action == "case.corrections_view")).scalar_one()
    assert viewed.entity_id == str(case.id)


def test_api_refusals_name_the_field(client, db, world):
    case = world["case"]
    headers = api_headers(client, "lead")
    url = f"/api/v1/cases/{case.id}/corrections"
    version = fresh(db, case).version

    def post(**body):
        return client.post(url, headers=headers, json={"reason": REASON, "version": version, **body})

    bad = post(field="missing_12m", value="lots")
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {
            "loc": ["body", "value"],
            "msg": "Missing episodes in the last 12 months must be a whole number, 0 or more",
            "type": "value_error",
        }
    ]
    wrong_type = post(field="latest_review", value=45000)
    assert wrong_type.status_code == 422 and "Latest review must be a date" in wrong_type.json()["detail"][0]["msg"]
    assert post(field="team_id", value=3).json()["detail"][0]["loc"] == ["body", "field"]
    no_reason = client.post(
        url, headers=headers, json={"field": "legal_status", "value": "E1", "reason": " ", "version": version}
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"] == [
        {"loc": ["body", "reason"], "msg": "Give the reason for the correction", "type": "value_error"}
    ]
    missing = client.post(url, headers=headers, json={"field": "legal_status", "value": "E1", "version": version})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "reason"]

    stale = post(field="legal_status", value="E1", version=version + 5)
    assert stale.status_code == 409 and "Someone else changed this case" in stale.json()["detail"]

    for username in ("hos", "auditor", "viewer"):
        refused = client.post(
            url,
            headers=api_headers(client, username),
            json={"field": "legal_status", "value": "E1", "reason": REASON, "version": version},
        )
        assert refused.status_code == 403, username
    assert corrections(db, case) == [] and fresh(db, case).legal_status == "C2"


def test_concurrent_corrections_never_overwrite_each_other_silently(db, world):
    case = fresh(db, world["case"])
    read_at = case.version
    correct(db, world, value="E1", version=read_at)
    with pytest.raises(Conflict):
        correct(db, world, value="V2", version=read_at)
    assert fresh(db, case).legal_status == "E1" and len(corrections(db, case)) == 1


def test_correcting_a_fact_again_supersedes_the_earlier_correction_and_keeps_the_case_systems_value(db, world):
    first = correct(db, world, value="E1")
    second = correct(db, world, value="C1")
    older, newer = corrections(db, world["case"])
    assert (older.id, newer.id) == (first.id, second.id)
    assert older.superseded_at is not None and older.superseded_by_correction_id == newer.id
    assert older.superseded_by_import_id is None
    assert (newer.old_value, newer.new_value, newer.source_value, newer.superseded_at) == ("E1", "C1", "C2", None)
    # An import still saying C2 keeps the newer correction.
    run_import(db, world["lead"], *ROWS.values())
    assert fresh(db, world["case"]).legal_status == "C1"
    assert corrections(db, world["case"])[1].superseded_at is None


def test_validation_names_every_field_at_once(db, world):
    with pytest.raises(ValidationFailed) as caught:
        correct(db, world, field="latest_review", value="soon", reason="")
    assert set(caught.value.errors) == {"value", "reason"}


# --- Imports -------------------------------------------------------------------------------------------------------


def test_an_import_still_bringing_the_old_value_keeps_the_correction_and_counts_no_change(db, world):
    case = world["case"]
    correct(db, world, field="legal_status", value="E1")
    correct(db, world, field="disability", value="yes")
    version = fresh(db, case).version

    again = run_import(db, world["lead"], *ROWS.values())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    after = fresh(db, case)
    assert (after.legal_status, after.disability, after.version) == ("E1", True, version)
    assert all(c.superseded_at is None for c in corrections(db, case))

    # Another fact moved on: the case is updated, and the corrected facts still hold.
    moved = ROWS["K1"].replace(",0,01/11/2026", ",2,01/11/2026")
    result = run_import(db, world["lead"], moved, ROWS["K2"])
    assert (result.updated, result.unchanged) == (1, 1)
    after = fresh(db, case)
    assert (after.legal_status, after.disability, after.missing_12m) == ("E1", True, 2)
    assert all(c.superseded_at is None for c in corrections(db, case))
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "case.correction_superseded")).first() is None


def test_an_import_bringing_another_value_is_taken_and_supersedes_the_correction(db, world):
    case = world["case"]
    kept = correct(db, world, field="disability", value="yes")
    replaced = correct(db, world, field="legal_status", value="E1")
    fixed = ROWS["K1"].replace(",C2,", ",V2,")  # the case system now says V2
    result = run_import(db, world["lead"], fixed, ROWS["K2"])
    assert result.updated == 1
    after = fresh(db, case)
    assert after.legal_status == "V2" and after.disability is True  # the other correction still holds
    by_id = {c.id: c for c in corrections(db, case)}
    assert by_id[replaced.id].superseded_at is not None
    assert by_id[replaced.id].superseded_by_import_id == result.id
    assert by_id[kept.id].superseded_at is None
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "case.correction_superseded")).scalar_one()
    assert (event.entity_type, event.entity_id) == ("case", str(case.id))
    assert event.before == {"field": "legal_status", "value": "E1", "correction_id": replaced.id}
    assert event.after == {"field": "legal_status", "value": "V2", "import_id": result.id}

    # From now on the register follows the case system for that fact.
    later = run_import(db, world["lead"], fixed.replace(",V2,", ",C1,"), ROWS["K2"])
    assert later.updated == 1 and fresh(db, case).legal_status == "C1"


def test_the_case_system_put_right_supersedes_the_correction(db, world):
    correction = correct(db, world, field="last_statutory_visit", value="20/11/2026")
    put_right = ROWS["K1"].replace("01/11/2026", "20/11/2026")
    result = run_import(db, world["lead"], put_right, ROWS["K2"])
    assert result.updated == 1 and fresh(db, world["case"]).last_statutory_visit == date(2026, 11, 20)
    [after] = corrections(db, world["case"])
    assert after.id == correction.id and after.superseded_by_import_id == result.id


def test_the_history_on_the_case_page_says_what_superseded_a_correction(client, db, world):
    case = world["case"]
    correct(db, world, field="legal_status", value="E1")
    correct(db, world, field="legal_status", value="C1")
    run_import(db, world["lead"], ROWS["K1"].replace(",C2,", ",V2,"), ROWS["K2"])
    login(client, "lead")
    text = page_text(client.get(f"/cases/{case.id}").text)
    assert "By a later correction on 26 Nov 2026" in text
    assert "By the import of 26 Nov 2026, which brought another value" in text
    assert "In force" not in text


# --- An import and a correction at once (PostgreSQL: real transactions) -------------------------------------------


@pytest.fixture
def own_engine(pytestconfig, tmp_path) -> Iterator[Engine]:
    url = fresh_database_url(pytestconfig, tmp_path, "corrections_race")
    alembic_upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_a_correction_saved_while_an_import_writes_the_case_waits_for_it_and_is_refused(pytestconfig, own_engine):
    """The import locks the rows of the cases it updates before it reads their corrections, so a correction made
    meanwhile is never written over unseen: it waits for the import, then its version claim fails (Conflict). SQLite
    needs no lock: it runs one writing transaction at a time (BEGIN IMMEDIATE)."""
    if not using_postgres(pytestconfig):
        pytest.skip("SQLite runs one writing transaction at a time (BEGIN IMMEDIATE)")
    with Session(own_engine) as setup:
        make_team(setup, name="North Team", service_area="Children in care")
        lead = make_user(setup, username="lead", roles=(Role.QA_LEAD,))
        run_import(setup, lead, *ROWS.values())
        case = setup.execute(select(Case).where(Case.child_id == "K1")).scalar_one()
        case_id, version, lead_id = case.id, case.version, lead.id
        setup.commit()

    importing = Session(own_engine)
    assert import_service._corrections_of_locked(importing, [case_id]) == {}  # the import weighs no correction
    outcome: list[str] = []

    def corrector() -> None:
        with Session(own_engine) as session:
            try:
                case_fact_correct(
                    session,
                    case=session.get(Case, case_id),
                    field="legal_status",
                    value="E1",
                    reason=REASON,
                    actor=session.get(User, lead_id),
                    expected_version=version,
                    today=TODAY,
                )
                session.commit()
                outcome.append("saved")
            except Conflict:
                session.rollback()
                outcome.append("refused")

    thread = threading.Thread(target=corrector)
    try:
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the correction did not wait for the import"
        importing.execute(
            update(Case).where(Case.id == case_id).values(legal_status="V2", version=Case.version + 1)
        )  # what the import writes
        importing.commit()
    finally:
        importing.close()
        thread.join(timeout=30)
    assert outcome == ["refused"]
    with Session(own_engine) as session:
        assert session.get(Case, case_id).legal_status == "V2"
        assert session.execute(select(CaseFactCorrection)).first() is None
