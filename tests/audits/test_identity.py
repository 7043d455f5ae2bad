"""People are linked to cases by identity, never by display name (issue 16, breach 1).

A practitioner account named like another area's worker must not read that worker's audits, reply under their
name, or see their children on the home page. The QA lead maps workers to accounts on the Workers page.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.audits.models import AuditAnswer, AuditReply
from app.audits.workflow.moves import audit_move
from app.cases import people as register
from app.cases.models import WorkerLink
from tests.factories import csrf_token, login, make_audit, make_case, make_team, make_user, page_text, post_form

SAM = "Sam Worker"


@pytest.fixture
def world(db, templates, people):  # people: the audits conftest's fixture
    front_door = make_team(db, name="Front Door 1", service_area="Front Door & MASH")
    safeguarding = make_team(db, name="Safeguarding 1", service_area="Safeguarding")
    sam = make_user(db, username="sam", roles=(Role.PRACTITIONER,), team=front_door, full_name=SAM)
    namesake = make_user(db, username="sam2", roles=(Role.PRACTITIONER,), team=safeguarding, full_name=SAM)
    case = make_case(db, child_id="FDMASH0001", team=front_door, worker_name=SAM)
    audit = make_audit(db, case=case, auditor=people.auditor, actor=people.lead, template_key="case_file_audit")
    db.add(AuditAnswer(audit_id=audit.id, question_key="chronology_up_to_date", value="no"))
    for to in ("in_progress", "submitted"):
        audit_move(db, audit=audit, to=to, version=audit.version, actor=people.auditor, summary=to)
    audit_move(db, audit=audit, to="completed", version=audit.version, actor=None, summary="done", final_grade="good")
    return {"sam": sam, "namesake": namesake, "case": case, "audit": audit, "team": front_door, "lead": people.lead}


def _reply(client, audit_id: int):
    return post_form(client, f"/audits/{audit_id}/replies", {"text": "This is not my case."})


def test_before_anyone_is_mapped_nobody_reads_the_findings_by_name(client, db, world):
    for username in ("sam", "sam2"):
        login(client, username)
        assert client.get(f"/audits/{world['audit'].id}/findings").status_code in (403, 404)
        assert "FDMASH0001" not in page_text(client.get("/").text)


def test_mapped_the_worker_reads_and_replies_and_the_namesake_in_another_area_gets_nothing(client, db, world):
    audit_id = world["audit"].id
    register.worker_link_set(
        db, key=register.worker_key(None, world["team"].id, SAM), user_id=world["sam"].id, actor=None
    )
    login(client, "sam2")  # the same full name, another service area
    assert client.get(f"/audits/{audit_id}/findings").status_code in (403, 404)
    assert _reply(client, audit_id).status_code in (403, 404)
    assert "FDMASH0001" not in page_text(client.get("/").text)
    assert db.execute(select(AuditReply)).first() is None
    login(client, "sam")
    assert client.get(f"/audits/{audit_id}/findings").status_code == 200
    assert "FDMASH0001" in page_text(client.get("/").text)
    assert _reply(client, audit_id).status_code == 303
    (reply,) = db.execute(select(AuditReply)).scalars()
    assert reply.author_id == world["sam"].id


def test_a_worker_id_in_the_extract_identifies_the_worker_whatever_the_name_or_team(db, world):
    case = make_case(db, child_id="FDMASH0002", team=world["team"], worker_name="S. Worker", worker_id="CMS-778")
    register.worker_link_set(db, key="id:CMS-778", user_id=world["sam"].id, actor=None)
    db.refresh(case)
    assert case.worker_user_id == world["sam"].id
    other = make_team(db, name="Front Door 2", service_area="Front Door & MASH")
    case.team_id, case.worker_name = other.id, "Samuel Worker"  # the next extract: moved team, fuller name
    db.add(case)
    db.flush()
    register.people_resolve(db)
    db.refresh(case)
    assert case.worker_user_id == world["sam"].id


def test_names_are_mapped_only_where_unambiguous_within_the_team(db, world):
    twin_team = make_team(db, name="Front Door 3", service_area="Front Door & MASH")
    make_user(db, username="twin1", roles=(Role.PRACTITIONER,), team=twin_team, full_name="Alex Twin")
    make_user(db, username="twin2", roles=(Role.PRACTITIONER,), team=twin_team, full_name="Alex  TWIN")
    twins_case = make_case(db, child_id="TWIN0001", team=twin_team, worker_name="Alex Twin")
    mapped, left = register.links_from_names(db)
    assert mapped == 1  # Sam, the one practitioner of that name in Front Door 1
    assert register.worker_key(None, twin_team.id, "alex twin") in left
    db.refresh(twins_case)
    assert twins_case.worker_user_id is None
    ambiguous = next(w for w in register.register_workers(db) if w.team_id == twin_team.id)
    assert ambiguous.state == "ambiguous" and {c.username for c in ambiguous.candidates} == {"twin1", "twin2"}


def test_the_qa_lead_maps_and_unmaps_on_the_workers_page(client, db, world):
    login(client, "lead")
    page = client.get("/workers")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Sam Worker" in text and "Front Door 1" in text and "No account" in text
    key = register.worker_key(None, world["team"].id, SAM)
    missing = post_form(client, "/workers/map", {"key": key, "user_id": ""})
    assert missing.status_code == 400
    assert "Choose the worker" in page_text(missing.text) and 'href="#user_id-1"' in missing.text
    done = post_form(client, "/workers/map", {"key": key, "user_id": str(world["sam"].id), "state": "all"})
    assert done.status_code == 303 and done.headers["location"] == "/workers?state=all&mapped=1"
    assert "Worker mapped" in page_text(client.get(done.headers["location"]).text)
    db.refresh(world["case"])
    assert world["case"].worker_user_id == world["sam"].id
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "worker.map")).scalars().one()
    assert event.actor_id == world["lead"].id and SAM not in event.summary.replace("to Sam Worker", "")
    removed = post_form(client, "/workers/unmap", {"key": key})
    assert removed.status_code == 303
    db.refresh(world["case"])
    assert world["case"].worker_user_id is None and db.execute(select(WorkerLink)).first() is None
    not_a_practitioner = post_form(client, "/workers/map", {"key": key, "user_id": str(world["lead"].id)})
    assert not_a_practitioner.status_code == 400


def test_only_the_qa_lead_sees_the_workers_page(client, db, world):
    login(client, "sam")
    assert client.get("/workers").status_code == 403
    assert post_form(client, "/workers/map", {"key": "x", "user_id": "1"}).status_code == 403
    assert csrf_token(client)


def test_a_mapping_for_a_worker_the_register_cannot_have_is_not_found(client, db, world):
    login(client, "lead")
    for key in ("name:x:Sam Worker", "name:1:", "id:", "nonsense"):
        response = post_form(client, "/workers/map", {"key": key, "user_id": str(world["sam"].id)})
        assert response.status_code == 404, key
    assert db.execute(select(WorkerLink)).first() is None
