"""Legal holds: the QA lead puts a case on hold for a reason and lifts it for a reason; a case has one active hold at
a time and a hold is lifted once (also when two people lift it at the same moment); the retention run reads the held
cases from `held_case_ids`; every place and lift is in the audit trail; only the QA lead reaches the pages and the
API, and bad input gets a message naming the field, never a 500."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.cases.models import Case, LegalHold
from app.cli import alembic_upgrade
from app.db import make_engine
from app.errors import Conflict, ValidationFailed
from app.retention import holds
from tests.conftest import fresh_database_url, using_postgres
from tests.factories import api_headers, login, make_case, make_team, make_user, page_text, post_form

REASON = "Complaint to the Ombudsman about the child's care, ref LGO-2026-17"
LIFT_REASON = "The Ombudsman closed the complaint and no appeal is open"


@pytest.fixture
def people(db) -> SimpleNamespace:
    team = make_team(db, name="Holds team", service_area="Safeguarding")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Lee Lead")
    hos = make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,), full_name="Hana Head")
    hos.service_area_id = team.service_area_id
    db.add(hos)
    db.flush()
    case = make_case(db, child_id="HOLD0001", team=team)
    other = make_case(db, child_id="HOLD0002", team=team)
    return SimpleNamespace(lead=lead, hos=hos, team=team, case=case, other=other)


def _events(db, action: str) -> list[AuditEvent]:
    db.flush()
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars())


def _holds(db, case: Case) -> list[LegalHold]:
    db.expire_all()
    return list(db.execute(select(LegalHold).where(LegalHold.case_id == case.id).order_by(LegalHold.id)).scalars())


# --- The rules for a reason (pure) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "action", "problem"),
    [
        ("", holds.PLACING, "Enter why the case is being put on legal hold"),
        ("", holds.LIFTING, "Enter why the legal hold is being lifted"),
        ("Inquiry", holds.PLACING, "The reason must be 10 characters or more"),
        ("x" * 9, holds.LIFTING, "The reason must be 10 characters or more"),
        ("x" * 10, holds.PLACING, None),
        ("x" * 2000, holds.LIFTING, None),
        ("x" * 2001, holds.PLACING, "The reason must be 2,000 characters or fewer"),
    ],
)
def test_a_reason_is_required_and_between_10_and_2000_characters(reason, action, problem):
    assert holds.reason_problem(reason, action=action) == problem


def test_a_reason_is_kept_tidied_and_refused_naming_its_field():
    assert holds.reason_cleaned("  Litigation: claim issued\nin the county court \x00 \n") == (
        "Litigation: claim issued\nin the county court"
    )
    assert holds.reason_cleaned(None) == holds.reason_cleaned(12) == ""
    with pytest.raises(ValidationFailed) as refused:
        holds.reason_checked("   \n  ", action=holds.PLACING)
    assert refused.value.errors == {"reason": "Enter why the case is being put on legal hold"}
    with pytest.raises(ValidationFailed) as refused:
        holds.reason_checked(" too short ", action=holds.LIFTING)
    assert refused.value.errors == {"reason": "The reason must be 10 characters or more"}
    assert holds.reason_checked(f"  {REASON}  ", action=holds.PLACING) == REASON


# --- The service ------------------------------------------------------------------------------------------------


def test_placing_a_hold_keeps_the_reason_and_is_in_the_audit_trail(db, people):
    hold = holds.hold_place(db, case=people.case, reason=f" {REASON} ", actor=people.lead)
    assert (hold.case_id, hold.reason, hold.placed_by_id, hold.lifted_at) == (
        people.case.id,
        REASON,
        people.lead.id,
        None,
    )
    assert holds.case_hold(db, people.case.id) == hold
    assert holds.case_hold(db, people.other.id) is None
    (event,) = _events(db, "legal_hold.place")
    assert (event.entity_type, event.entity_id, event.actor_id) == ("case", str(people.case.id), people.lead.id)
    assert event.after == {"reason": REASON}
    assert "HOLD0001" in event.summary


def test_a_case_already_on_hold_is_refused_a_second_hold(db, people):
    holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    with pytest.raises(Conflict) as refused:
        holds.hold_place(db, case=people.case, reason="Another reason for a second hold", actor=people.lead)
    assert refused.value.message == (
        "The case of child HOLD0001 is already on legal hold, placed by Lee Lead. Nothing was changed."
    )
    assert len(_holds(db, people.case)) == 1 and len(_events(db, "legal_hold.place")) == 1


def test_a_hold_without_a_reason_is_refused_and_nothing_is_kept(db, people):
    for reason in ("", "   ", "short"):
        with pytest.raises(ValidationFailed) as refused:
            holds.hold_place(db, case=people.case, reason=reason, actor=people.lead)
        assert set(refused.value.errors) == {"reason"}
    assert _holds(db, people.case) == [] and _events(db, "legal_hold.place") == []


def test_lifting_needs_a_reason_and_is_in_the_audit_trail(db, people):
    hold = holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    with pytest.raises(ValidationFailed) as refused:
        holds.hold_lift(db, hold=hold, reason="  ", actor=people.lead)
    assert refused.value.errors == {"reason": "Enter why the legal hold is being lifted"}
    assert hold.lifted_at is None and _events(db, "legal_hold.lift") == []

    holds.hold_lift(db, hold=hold, reason=LIFT_REASON, actor=people.lead)
    assert hold.lifted_at is not None and (hold.lifted_by_id, hold.lifted_reason) == (people.lead.id, LIFT_REASON)
    assert holds.case_hold(db, people.case.id) is None
    (event,) = _events(db, "legal_hold.lift")
    assert (event.entity_type, event.entity_id, event.actor_id) == ("case", str(people.case.id), people.lead.id)
    assert event.after == {"reason": LIFT_REASON}


def test_a_lifted_hold_cannot_be_lifted_again(db, people):
    hold = holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    holds.hold_lift(db, hold=hold, reason=LIFT_REASON, actor=people.lead)
    lifted_at = hold.lifted_at
    with pytest.raises(Conflict) as refused:
        holds.hold_lift(db, hold=hold, reason="Lifting it a second time by mistake", actor=people.hos)
    assert refused.value.message == "This legal hold has already been lifted by Lee Lead. Nothing was changed."
    (stored,) = _holds(db, people.case)
    assert (stored.lifted_at, stored.lifted_by_id, stored.lifted_reason) == (lifted_at, people.lead.id, LIFT_REASON)
    assert len(_events(db, "legal_hold.lift")) == 1


def test_a_case_whose_hold_was_lifted_can_be_held_again(db, people):
    first = holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    holds.hold_lift(db, hold=first, reason=LIFT_REASON, actor=people.lead)
    second = holds.hold_place(
        db, case=people.case, reason="A new claim was issued in the county court", actor=people.lead
    )
    assert second.id != first.id and holds.case_hold(db, people.case.id) == second
    assert people.case.id in holds.held_case_ids(db)


def test_held_case_ids_are_the_cases_with_an_active_hold(db, people):
    assert holds.held_case_ids(db) == set()
    third = make_case(db, child_id="HOLD0003", team=people.team)
    holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    lifted = holds.hold_place(db, case=people.other, reason=REASON, actor=people.lead)
    holds.hold_place(db, case=third, reason=REASON, actor=people.lead)
    holds.hold_lift(db, hold=lifted, reason=LIFT_REASON, actor=people.lead)
    assert holds.held_case_ids(db) == {people.case.id, third.id}


def test_the_list_shows_active_holds_first_and_filters_by_status(db, people, set_clock):
    set_clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), running=False)
    old = holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    set_clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), running=False)
    newer = holds.hold_place(db, case=people.other, reason=REASON, actor=people.lead)
    holds.hold_lift(db, hold=newer, reason=LIFT_REASON, actor=people.lead)
    assert [h.id for h in holds.holds_page(db).items] == [old.id, newer.id]
    assert [h.id for h in holds.holds_page(db, status=holds.ACTIVE).items] == [old.id]
    assert [h.id for h in holds.holds_page(db, status=holds.LIFTED).items] == [newer.id]
    (row,) = holds.hold_rows(db, holds=[newer])
    assert (row.child_id, row.placed_by_name, row.lifted_by_name, row.status_label) == (
        "HOLD0002",
        "Lee Lead",
        "Lee Lead",
        "Lifted",
    )


# --- Two people at once (real connections, each commits) -----------------------------------------------------


@pytest.fixture
def own_engine(pytestconfig, tmp_path) -> Iterator[Engine]:
    url = fresh_database_url(pytestconfig, tmp_path, "legal_holds")
    alembic_upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _race(engine: Engine, first_action: Callable[[Session], None], second_action: Callable[[Session], None]) -> str:
    """`first_action` done but not committed; `second_action` in another thread (it must wait); the first commits;
    what became of the second: "saved" or "refused"."""
    first = Session(engine)
    first_action(first)
    outcome: list[str] = []

    def second() -> None:
        with Session(engine) as session:
            try:
                second_action(session)
                session.commit()
                outcome.append("saved")
            except Conflict:
                session.rollback()
                outcome.append("refused")

    thread = threading.Thread(target=second)
    try:
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second did not wait for the first"
        first.commit()
    finally:
        first.close()
        thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome[0]


def _setup(engine: Engine, *, held: bool) -> tuple[int, int, int | None]:
    with Session(engine) as setup:
        lead = make_user(setup, username="lead", roles=(Role.QA_LEAD,), full_name="Lee Lead")
        case = make_case(setup, child_id="RACE0001")
        hold = holds.hold_place(setup, case=case, reason=REASON, actor=lead) if held else None
        setup.commit()
        assert lead.id is not None and case.id is not None
        return lead.id, case.id, hold.id if hold else None


def test_two_lifts_at_once_one_succeeds_the_other_is_refused(pytestconfig, own_engine: Engine):
    lead_id, _, hold_id = _setup(own_engine, held=True)
    seen: list[object] = []

    def lift(reason: str) -> Callable[[Session], None]:
        def action(session: Session) -> None:
            hold = session.get(LegalHold, hold_id)
            actor = session.get(User, lead_id)
            assert hold is not None and actor is not None
            seen.append(hold.lifted_at)
            holds.hold_lift(session, hold=hold, reason=reason, actor=actor)

        return action

    assert _race(own_engine, lift(LIFT_REASON), lift("A second lift at the same moment")) == "refused"
    if using_postgres(pytestconfig):
        assert seen == [None, None], "the second lift should have read the hold as active before the first committed"
    with Session(own_engine) as session:
        stored = session.get(LegalHold, hold_id)
        assert stored is not None and stored.lifted_reason == LIFT_REASON
        lifts = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "legal_hold.lift")
        ).scalar_one()
        assert lifts == 1


def test_two_holds_placed_at_once_on_one_case_one_is_refused(own_engine: Engine):
    lead_id, case_id, _ = _setup(own_engine, held=False)

    def place(reason: str) -> Callable[[Session], None]:
        def action(session: Session) -> None:
            case, actor = session.get(Case, case_id), session.get(User, lead_id)
            assert case is not None and actor is not None
            holds.hold_place(session, case=case, reason=reason, actor=actor)

        return action

    assert _race(own_engine, place(REASON), place("A second hold at the same moment")) == "refused"
    with Session(own_engine) as session:
        assert holds.held_case_ids(session) == {case_id}
        stored = session.execute(select(LegalHold.reason).where(LegalHold.case_id == case_id)).scalars().all()
        assert stored == [REASON]


# --- The pages ---------------------------------------------------------------------------------------------------


def test_the_qa_lead_puts_a_case_on_hold_from_its_page(client, db, people):
    login(client, "lead")
    case_url = f"/cases/{people.case.id}"
    text = page_text(client.get(case_url).text)
    assert "Legal hold" in text and "This case is not on legal hold" in text
    assert f'href="/cases/{people.case.id}/legal-hold"' in client.get(case_url).text

    form = client.get(f"{case_url}/legal-hold")
    assert form.status_code == 200
    assert "You are putting the case of child HOLD0001 on legal hold" in page_text(form.text)

    empty = post_form(client, f"{case_url}/legal-hold", {"reason": "  "})
    assert empty.status_code == 400
    text = page_text(empty.text)
    assert "There is a problem" in text and "Enter why the case is being put on legal hold" in text
    assert 'href="#reason"' in empty.text and "<title>Error: " in empty.text
    short = post_form(client, f"{case_url}/legal-hold", {"reason": "Inquiry"})
    assert short.status_code == 400 and "The reason must be 10 characters or more" in page_text(short.text)
    assert ">Inquiry</textarea>" in short.text  # what was typed is kept
    assert _holds(db, people.case) == []

    placed = post_form(client, f"{case_url}/legal-hold", {"reason": REASON})
    assert placed.status_code == 303 and placed.headers["location"] == f"{case_url}?legal_hold=placed"
    page = client.get(placed.headers["location"])
    text = page_text(page.text)
    assert "The case is on legal hold." in text
    assert f"On legal hold since 26 November 2026: {REASON}, placed by Lee Lead" in page_text(
        page.text.replace("&#39;", "'")
    )
    (hold,) = _holds(db, people.case)
    assert f'href="/legal-holds/{hold.id}/lift"' in page.text and "Lift the hold" in text

    again = client.get(f"{case_url}/legal-hold")
    assert again.status_code == 200 and "is already on legal hold" in page_text(again.text)
    second = post_form(client, f"{case_url}/legal-hold", {"reason": "Another reason for a second hold"})
    assert second.status_code == 409
    assert "The case of child HOLD0001 is already on legal hold, placed by Lee Lead. Nothing was changed." in (
        page_text(second.text)
    )
    assert len(_holds(db, people.case)) == 1


def test_the_qa_lead_finds_the_case_to_hold_by_its_child_id(client, db, people):
    login(client, "lead")
    assert 'href="/legal-holds/new"' in client.get("/legal-holds").text
    page = client.get("/legal-holds/new")
    assert page.status_code == 200 and "Put a case on legal hold" in page_text(page.text)
    for typed in ("HOLD0002", " hold0002 "):
        found = client.get("/legal-holds/new", params={"child_id": typed}, follow_redirects=False)
        assert found.status_code == 303 and found.headers["location"] == f"/cases/{people.other.id}/legal-hold"
    unknown = client.get("/legal-holds/new", params={"child_id": "NOPE0001"})
    assert unknown.status_code == 400
    assert "There is no case with child ID NOPE0001" in page_text(unknown.text) and 'href="#child_id"' in unknown.text
    blank = client.get("/legal-holds/new", params={"child_id": "  "})
    assert blank.status_code == 400 and "Enter the child ID of the case" in page_text(blank.text)
    too_long = client.get("/legal-holds/new", params={"child_id": "X" * 500})
    assert too_long.status_code == 400  # bad input, named: never a 500


def test_the_qa_lead_lifts_a_hold_after_being_told_what_it_means(client, db, people):
    hold = holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    login(client, "lead")
    url = f"/legal-holds/{hold.id}/lift"
    page = client.get(url)
    text = page_text(page.text)
    assert page.status_code == 200
    assert "Are you sure you want to lift the legal hold on the case of child HOLD0001?" in text
    assert "may be removed or anonymised at the next retention run" in text

    empty = post_form(client, url, {"reason": ""})
    assert empty.status_code == 400 and "Enter why the legal hold is being lifted" in page_text(empty.text)
    assert 'href="#reason"' in empty.text
    assert _holds(db, people.case)[0].lifted_at is None

    lifted = post_form(client, url, {"reason": LIFT_REASON})
    assert lifted.status_code == 303 and lifted.headers["location"] == f"/cases/{people.case.id}?legal_hold=lifted"
    text = page_text(client.get(lifted.headers["location"]).text)
    assert "The legal hold is lifted." in text and "This case is not on legal hold" in text

    shown = page_text(client.get(url).text)
    assert "The legal hold on the case of child HOLD0001 has been lifted" in shown and LIFT_REASON in shown
    twice = post_form(client, url, {"reason": "Lifting it a second time by mistake"})
    assert twice.status_code == 409
    assert "This legal hold has already been lifted by Lee Lead. Nothing was changed." in page_text(twice.text)
    assert _holds(db, people.case)[0].lifted_reason == LIFT_REASON and len(_events(db, "legal_hold.lift")) == 1


def test_the_list_of_holds_filters_pages_and_says_when_there_are_none(client, db, people):
    login(client, "lead")
    empty = client.get("/legal-holds")
    assert empty.status_code == 200 and "No cases are on legal hold." in page_text(empty.text)
    assert 'href="/legal-holds"' in client.get("/retention").text  # from Retention in the menu

    cases = [people.case, people.other] + [make_case(db, child_id=f"HOLD1{n:03d}") for n in range(28)]
    placed = [holds.hold_place(db, case=c, reason=REASON, actor=people.lead) for c in cases]
    holds.hold_lift(db, hold=placed[0], reason=LIFT_REASON, actor=people.lead)

    text = page_text(client.get("/legal-holds").text)
    assert "Showing 1 to 25 of 30 legal holds" in text and "HOLD0001" not in text  # the lifted one comes last
    last = page_text(client.get("/legal-holds?page=2").text)
    assert "Showing 26 to 30 of 30 legal holds" in last and "HOLD0001" in last
    lifted = client.get("/legal-holds?status=lifted")
    text = page_text(lifted.text)
    assert "Showing 1 to 1 of 1 legal hold" in text and "HOLD0001" in text and LIFT_REASON in text
    active = page_text(client.get("/legal-holds?status=active").text)
    assert "Showing 1 to 25 of 29 legal holds" in active and "Lift the hold on the case of child HOLD1027" in active
    htmx = client.get("/legal-holds?status=lifted", headers={"HX-Request": "true"})
    assert "HOLD0001" in htmx.text and "<html" not in htmx.text  # the results only
    holds.hold_lift(db, hold=placed[1], reason=LIFT_REASON, actor=people.lead)
    assert "No legal holds have been lifted." not in page_text(client.get("/legal-holds?status=lifted").text)
    listed = _events(db, "legal_hold.list")
    assert listed and listed[-1].after == {"count": 2, "filter": {"status": "lifted", "page": 1}}


def test_unknown_ids_and_bad_input_are_not_found_or_refused_never_a_500(client, db, people):
    login(client, "lead")
    for url in (
        "/legal-holds/999999/lift",
        "/legal-holds/abc/lift",
        "/legal-holds/99999999999999999999/lift",
        "/cases/999999/legal-hold",
        "/cases/abc/legal-hold",
    ):
        assert client.get(url).status_code == 404, url
        assert post_form(client, url, {"reason": REASON}).status_code == 404, url
    assert client.get("/legal-holds?status=nonsense&page=%C2%B9").status_code == 200
    headers = api_headers(client, "lead")
    missing = client.post("/api/v1/legal-holds/999999/lift", json={"reason": REASON}, headers=headers)
    assert missing.status_code == 404 and missing.json() == {"detail": "Legal hold 999999 not found"}
    assert client.post("/api/v1/legal-holds/abc/lift", json={"reason": REASON}, headers=headers).status_code == 422
    assert client.post("/api/v1/cases/999999/legal-hold", json={"reason": REASON}, headers=headers).status_code == 404
    assert client.get("/api/v1/legal-holds?status=nonsense", headers=headers).status_code == 422


# --- The API -----------------------------------------------------------------------------------------------------


def test_the_api_places_lists_and_lifts_holds(client, db, people):
    headers = api_headers(client, "lead")
    url = f"/api/v1/cases/{people.case.id}/legal-hold"
    empty = client.post(url, json={}, headers=headers)
    assert empty.status_code == 422
    assert empty.json() == {
        "detail": [
            {
                "loc": ["body", "reason"],
                "msg": "Enter why the case is being put on legal hold",
                "type": "value_error",
            }
        ]
    }
    short = client.post(url, json={"reason": "short"}, headers=headers)
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "reason"]
    wrong_type = client.post(url, json={"reason": 12}, headers=headers)
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"][0]["loc"] == ["body", "reason"]

    placed = client.post(url, json={"reason": REASON}, headers=headers)
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["case_id"] == people.case.id and body["child_id"] == "HOLD0001" and body["status"] == "active"
    assert (body["reason"], body["placed_by"], body["lifted_at"]) == (REASON, "Lee Lead", None)
    again = client.post(url, json={"reason": "Another reason for a second hold"}, headers=headers)
    assert again.status_code == 409
    assert again.json() == {
        "detail": "The case of child HOLD0001 is already on legal hold, placed by Lee Lead. Nothing was changed."
    }

    listed = client.get("/api/v1/legal-holds", headers=headers).json()
    assert listed["total"] == 1 and listed["page"] == 1 and listed["page_size"] == 50
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert client.get("/api/v1/legal-holds?status=lifted", headers=headers).json()["total"] == 0

    lift_url = f"/api/v1/legal-holds/{body['id']}/lift"
    refused = client.post(lift_url, json={"reason": ""}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0] == {
        "loc": ["body", "reason"],
        "msg": "Enter why the legal hold is being lifted",
        "type": "value_error",
    }
    lifted = client.post(lift_url, json={"reason": LIFT_REASON}, headers=headers)
    assert lifted.status_code == 200
    assert lifted.json()["status"] == "lifted" and lifted.json()["lifted_reason"] == LIFT_REASON
    assert lifted.json()["lifted_by"] == "Lee Lead"
    twice = client.post(lift_url, json={"reason": "Lifting it a second time by mistake"}, headers=headers)
    assert twice.status_code == 409 and "already been lifted" in twice.json()["detail"]
    assert client.get("/api/v1/legal-holds?status=lifted", headers=headers).json()["total"] == 1
    assert [e.after for e in _events(db, "legal_hold.place")] == [{"reason": REASON}]
    assert [e.after for e in _events(db, "legal_hold.lift")] == [{"reason": LIFT_REASON}]


# --- Only the QA lead -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role if r != Role.QA_LEAD])
def test_every_other_role_is_refused_the_pages_and_the_api(client, db, people, role):
    make_user(db, username="other", roles=(role,), team=people.team)
    hold = holds.hold_place(db, case=people.other, reason=REASON, actor=people.lead)
    login(client, "other")
    for method, url in (
        ("GET", "/legal-holds"),
        ("GET", "/legal-holds/new?child_id=HOLD0001"),
        ("GET", f"/cases/{people.case.id}/legal-hold"),
        ("POST", f"/cases/{people.case.id}/legal-hold"),
        ("GET", f"/legal-holds/{hold.id}/lift"),
        ("POST", f"/legal-holds/{hold.id}/lift"),
    ):
        response = client.get(url) if method == "GET" else post_form(client, url, {"reason": REASON})
        assert response.status_code == 403, (method, url)
        assert "You need the QA lead role" in page_text(response.text)
    headers = api_headers(client, "other")
    for response in (
        client.get("/api/v1/legal-holds", headers=headers),
        client.post(f"/api/v1/cases/{people.case.id}/legal-hold", json={"reason": REASON}, headers=headers),
        client.post(f"/api/v1/legal-holds/{hold.id}/lift", json={"reason": REASON}, headers=headers),
    ):
        assert response.status_code == 403 and "You need the QA lead role" in response.json()["detail"]
    assert holds.held_case_ids(db) == {people.other.id} and _holds(db, people.case) == []
    assert 'href="/retention"' not in client.get("/").text  # not in their menu


def test_a_head_of_service_sees_the_case_but_not_its_legal_hold_panel(client, db, people):
    holds.hold_place(db, case=people.case, reason=REASON, actor=people.lead)
    login(client, "hos")
    page = client.get(f"/cases/{people.case.id}")
    assert page.status_code == 200 and "Child HOLD0001" in page_text(page.text)
    assert "Legal hold" not in page_text(page.text) and REASON not in page.text
