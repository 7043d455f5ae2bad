"""The recommendations JSON API: raising (from an audit, thematic), the lifecycle through PATCH, the version check,
errors naming the field at fault, scope (never another area's items), due-date history and the audit trail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit_trail.models import AuditEvent
from app.recommendations.models import Recommendation, Theme
from app.sampling.models import Cycle
from tests.factories import api_headers, login, make_audit, make_case, make_team, make_user
from tests.recommendations.conftest import make_item

URL = "/api/v1/recommendations"


@pytest.fixture
def today(settings) -> date:
    return settings.today()  # the API counts "overdue" from the real local date


@pytest.fixture
def as_(client, world):
    """Bearer headers by username, fetched once each."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = api_headers(client, username)
        return cache[username]

    return headers


@pytest.fixture
def item(db, world, today):
    return make_item(db, world, due_date=today + timedelta(days=20))


def _theme_id(db, name: str) -> int:
    return db.execute(select(Theme.id).where(Theme.name == name)).scalar_one()


def _patch(client, headers, item_id, **body):
    return client.patch(f"{URL}/{item_id}", headers=headers, json=body)


def _fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [entry["loc"][-1] for entry in response.json()["detail"]]


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


# --- Raising ---------------------------------------------------------------------------------------


def test_raise_from_an_audit_defaults_the_owner_to_the_case_worker(client, db, world, as_, today):
    chronology = _theme_id(db, "Chronology")
    response = client.post(
        f"/api/v1/audits/{world.audit.id}/recommendations",
        headers=as_("auditor"),
        json={
            "text": "Bring the chronology up to date",
            "priority": "high",
            "theme_ids": [chronology],
            "section_key": "compliance",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["owner"] == {"id": world.owner.id, "name": "Wes Worker"}
    assert body["team"] == {"id": world.team.id, "name": "Safeguarding Team 1"}
    assert body["service_area"]["name"] == "Safeguarding"
    assert (body["audit_id"], body["case_id"], body["child_id"]) == (world.audit.id, world.case.id, "CHILD0001")
    assert (body["status"], body["priority"], body["version"]) == ("open", "high", 1)
    assert body["due_date"] == (today + timedelta(days=28)).isoformat()
    assert body["themes"] == ["Chronology"] and body["section_key"] == "compliance"
    assert body["raised_by"] == {"id": world.auditor.id, "name": "Asha Auditor"}
    assert (body["days_overdue"], body["escalation_level"]) == (0, None)
    assert [h["action"] for h in body["history"]] == ["raise"]


def test_raise_with_no_default_owner_is_a_422_naming_owner_id(client, db, world, as_):
    lonely_team = make_team(db, name="No manager team", service_area="Safeguarding")
    case = make_case(db, team=lonely_team, worker_name="Nobody With An Account")
    audit = make_audit(db, case=case, auditor=world.auditor, actor=world.lead)
    response = client.post(
        f"/api/v1/audits/{audit.id}/recommendations",
        headers=as_("auditor"),
        json={"text": "Record the child's views", "priority": "normal"},
    )
    assert _fields(response) == ["owner_id"]
    assert "give owner_id" in response.json()["detail"][0]["msg"]
    named = client.post(
        f"/api/v1/audits/{audit.id}/recommendations",
        headers=as_("auditor"),
        json={"text": "Record the child's views", "priority": "normal", "owner_id": world.hos.id},
    )
    assert named.status_code == 201 and named.json()["owner"]["id"] == world.hos.id


def test_raise_on_an_audit_you_cannot_see_is_404_and_without_the_role_403(client, db, world, as_):
    make_user(db, username="auditor2", roles=("auditor",))
    body = {"text": "Update the plan", "priority": "normal"}
    url = f"/api/v1/audits/{world.audit.id}/recommendations"
    assert client.post(url, headers=as_("auditor2"), json=body).status_code == 404
    assert client.post("/api/v1/audits/999999/recommendations", headers=as_("auditor"), json=body).status_code == 404
    assert client.post(url, headers=as_("owner"), json=body).status_code == 403
    assert db.execute(select(func.count()).select_from(Recommendation)).scalar_one() == 0


def test_thematic_raise_by_the_qa_lead(client, db, world, as_):
    cycle = Cycle(
        title="Missing children thematic",
        kind="thematic",
        template_key="dip_sample",
        template_version=1,
        due_date=date(2027, 3, 31),
    )
    db.add(cycle)
    db.flush()
    body = {
        "text": "Return home interviews within 72 hours",
        "priority": "urgent",
        "owner_id": world.hos.id,
        "service_area_id": world.team.service_area_id,
    }
    url = f"/api/v1/cycles/{cycle.id}/recommendations"
    response = client.post(url, headers=as_("lead"), json=body)
    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["cycle_id"], made["audit_id"], made["case_id"], made["child_id"]) == (cycle.id, None, None, None)
    assert made["service_area"]["id"] == world.team.service_area_id
    assert client.post(url, headers=as_("auditor"), json=body).status_code == 403
    assert client.post("/api/v1/cycles/999999/recommendations", headers=as_("lead"), json=body).status_code == 404
    assert _fields(client.post(url, headers=as_("lead"), json={**body, "service_area_id": 999999})) == [
        "service_area_id"
    ]
    assert _fields(client.post(url, headers=as_("lead"), json={**body, "owner_id": None})) == ["owner_id"]


# --- The lifecycle ---------------------------------------------------------------------------------


def test_open_to_closed_through_the_api(client, db, world, as_, item):
    started = _patch(client, as_("owner"), item.id, version=1, status="in_progress")
    assert started.status_code == 200, started.text
    assert (started.json()["status"], started.json()["version"]) == ("in_progress", 2)
    completed = _patch(
        client,
        as_("owner"),
        item.id,
        version=2,
        status="completed",
        evidence="Chronology updated and checked in supervision",
    )
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert body["status"] == "completed" and body["completed_at"] is not None
    assert body["evidence"] == "Chronology updated and checked in supervision"
    closed = _patch(client, as_("hos"), item.id, version=3, status="closed")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["version"]) == ("closed", 4) and body["closed_at"] is not None
    assert [h["action"] for h in body["history"]] == ["start", "complete", "close"]
    assert body["history"][1]["note"] == "Chronology updated and checked in supervision"
    assert body["history"][2]["actor"] == {"id": world.hos.id, "name": "Hana Head"}


def test_the_owner_cannot_close_their_own(client, db, world, as_):
    item = make_item(db, world, status="completed")
    response = _patch(client, as_("owner"), item.id, version=1, status="closed")
    assert response.status_code == 403
    assert "Someone other than the owner" in response.json()["detail"]
    assert client.get(f"{URL}/{item.id}", headers=as_("owner")).json()["status"] == "completed"


@pytest.mark.parametrize("wanted", ["reopened", "in_progress"])
def test_a_verifier_reopens_with_a_reason(client, db, world, as_, wanted):
    item = make_item(db, world, status="completed")
    assert _fields(_patch(client, as_("hos"), item.id, version=1, status=wanted)) == ["reason"]
    response = _patch(client, as_("hos"), item.id, version=1, status=wanted, reason="No evidence of supervision")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["completed_at"]) == ("in_progress", None)
    assert body["history"][-1]["action"] == "reopen" and body["history"][-1]["note"] == "No evidence of supervision"


def test_a_stale_version_is_a_409_and_changes_nothing(client, db, world, as_, item):
    assert _patch(client, as_("owner"), item.id, version=1, status="in_progress").status_code == 200
    stale = _patch(client, as_("owner"), item.id, version=1, status="completed", evidence="Done")
    assert stale.status_code == 409 and "changed since you opened it" in stale.json()["detail"]
    assert client.get(f"{URL}/{item.id}", headers=as_("owner")).json()["status"] == "in_progress"


def test_an_illegal_move_is_a_409(client, db, world, as_, item):
    response = _patch(client, as_("hos"), item.id, version=1, status="closed")
    assert response.status_code == 409 and "cannot be closed" in response.json()["detail"]


def test_completing_needs_evidence(client, db, world, as_, item):
    assert _fields(_patch(client, as_("owner"), item.id, version=1, status="completed")) == ["evidence"]
    assert _fields(_patch(client, as_("owner"), item.id, version=1, status="completed", evidence="  ")) == ["evidence"]
    # Evidence with any other move would be lost: refused rather than dropped.
    assert _fields(_patch(client, as_("owner"), item.id, version=1, status="in_progress", evidence="x")) == ["evidence"]


def test_the_version_is_required_and_something_must_change(client, db, world, as_, item):
    assert _fields(_patch(client, as_("owner"), item.id, status="in_progress")) == ["version"]
    assert _fields(_patch(client, as_("owner"), item.id, version=1)) == ["status"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": 1, "status": "done"}, "status"),
        ({"version": "one", "status": "in_progress"}, "version"),
        ({"version": 99999999999, "status": "in_progress"}, "version"),
        ({"version": 1, "due_date": "2026-02-30", "due_date_reason": "x"}, "due_date"),
        ({"version": 1, "status": "in_progress", "colour": "red"}, "colour"),
        ({"version": 1, "status": "completed", "evidence": ["a list"]}, "evidence"),
    ],
)
def test_bad_patch_values_are_422s_naming_the_field(client, db, world, as_, item, body, field):
    assert _fields(client.patch(f"{URL}/{item.id}", headers=as_("owner"), json=body)) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priority": "asap"}, "priority"),
        ({"owner_id": "abc"}, "owner_id"),
        ({"owner_id": 2**40}, "owner_id"),
        ({"theme_ids": ["x"]}, 0),
        ({"theme_ids": [2**40]}, 0),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"text": ["not", "text"]}, "text"),
        ({"text": ""}, "text"),
        ({"theme_ids": [999999]}, "theme_ids"),
        ({"section_key": "no_such_section"}, "section_key"),
    ],
)
def test_bad_raise_values_are_422s_naming_the_field(client, db, world, as_, change, field):
    body = {"text": "Update the chronology", "priority": "normal", "owner_id": world.owner.id, **change}
    response = client.post(f"/api/v1/audits/{world.audit.id}/recommendations", headers=as_("auditor"), json=body)
    assert _fields(response) == [field]


def test_junk_never_gives_a_500(client, db, world, as_, item):
    headers = {**as_("lead"), "content-type": "application/json"}
    for method, url, content in [
        ("PATCH", f"{URL}/{item.id}", b"{not json"),
        ("PATCH", f"{URL}/{item.id}", b"[1, 2]"),
        ("PATCH", f"{URL}/{item.id}", b"\x00\xff"),
        ("POST", f"/api/v1/audits/{world.audit.id}/recommendations", b"null"),
        ("PATCH", f"{URL}/99999999999", b'{"version": 1}'),
        ("PATCH", f"{URL}/abc", b'{"version": 1}'),
        ("GET", f"{URL}/99999999999", None),
        ("GET", f"{URL}/-1", None),
        ("GET", f"{URL}?page=0", None),
        ("GET", f"{URL}?page_size=100000", None),
        ("GET", f"{URL}?team=99999999999999999999", None),
        ("GET", f"{URL}?q=%00", None),
    ]:
        response = client.request(method, url, headers=headers, content=content)
        assert response.status_code in (200, 404, 422), (method, url, response.status_code, response.text)
        assert "detail" in response.json() or "items" in response.json()


def test_nul_characters_are_refused_naming_the_field_not_stored(client, db, world, as_, item):
    # The same rule as every other text (app.web.input_guard): refused, never silently changed.
    response = _patch(client, as_("owner"), item.id, version=1, status="completed", evidence="Done\x00 and checked")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "evidence"]
    db.refresh(item)
    assert item.status != "completed" and item.version == 1


# --- Due dates ---------------------------------------------------------------------------------------


def test_two_due_date_changes_leave_two_history_entries(client, db, world, as_, item, today):
    first, second = today + timedelta(days=40), today + timedelta(days=60)
    one = _patch(
        client,
        as_("hos"),
        item.id,
        version=1,
        due_date=first.isoformat(),
        due_date_reason="Waiting for the family court report",
    )
    assert one.status_code == 200, one.text
    two = _patch(client, as_("manager"), item.id, version=2, due_date=second.isoformat(), reason="Worker on leave")
    assert two.status_code == 200, two.text
    changes = [h for h in two.json()["history"] if h["action"] == "due_date"]
    assert [(h["old_due_date"], h["new_due_date"], h["note"]) for h in changes] == [
        ((today + timedelta(days=20)).isoformat(), first.isoformat(), "Waiting for the family court report"),
        (first.isoformat(), second.isoformat(), "Worker on leave"),
    ]
    assert two.json()["due_date"] == second.isoformat() and two.json()["version"] == 3


def test_a_due_date_change_needs_a_reason_and_a_verifier(client, db, world, as_, item, today):
    new = (today + timedelta(days=30)).isoformat()
    assert _fields(_patch(client, as_("hos"), item.id, version=1, due_date=new)) == ["due_date_reason"]
    assert _patch(client, as_("owner"), item.id, version=1, due_date=new, reason="More time").status_code == 403


def test_due_date_and_status_together_are_all_or_nothing(client, db, world, as_, today):
    item = make_item(db, world, status="completed", due_date=today + timedelta(days=5))
    new = (today + timedelta(days=30)).isoformat()
    # The due date would change, but the owner may not close: nothing is saved.
    refused = _patch(
        client, as_("hos"), item.id, version=1, due_date=new, due_date_reason="More time", status="in_progress"
    )
    assert _fields(refused) == ["reason"]
    after = client.get(f"{URL}/{item.id}", headers=as_("hos")).json()
    assert (after["version"], after["due_date"], after["status"]) == (1, item.due_date.isoformat(), "completed")
    assert [h["action"] for h in after["history"]] == []
    both = _patch(
        client,
        as_("hos"),
        item.id,
        version=1,
        due_date=new,
        due_date_reason="More time",
        status="reopened",
        reason="The plan was not updated",
    )
    assert both.status_code == 200, both.text
    body = both.json()
    assert (body["version"], body["due_date"], body["status"]) == (3, new, "in_progress")
    assert [h["action"] for h in body["history"]] == ["due_date", "reopen"]


# --- Lists, filters and scope ---------------------------------------------------------------------


def test_list_filters_and_pages(client, db, world, as_, today):
    overdue = make_item(db, world, due_date=today - timedelta(days=20))
    make_item(db, world, due_date=today + timedelta(days=3))
    make_item(db, world, status="closed")
    other_owner = make_item(db, world, owner=world.manager, due_date=today - timedelta(days=1))
    lead = as_("lead")

    def ids(query: str) -> list[int]:
        response = client.get(f"{URL}?{query}", headers=lead)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert ids("status=overdue") == [overdue.id, other_owner.id]
    assert len(ids("status=outstanding")) == 3 and len(ids("status=closed")) == 1
    mine = client.get(f"{URL}?owner=me&status=overdue", headers=as_("manager")).json()
    assert [i["id"] for i in mine["items"]] == [other_owner.id]
    page = client.get(f"{URL}?page=2&page_size=3", headers=lead).json()
    assert (page["total"], page["page"], page["page_size"], len(page["items"])) == (4, 2, 3, 1)
    first = client.get(f"{URL}?status=overdue", headers=lead).json()["items"][0]
    assert first["days_overdue"] == 20 and first["escalation_level"] == "team_manager"


@pytest.mark.parametrize(
    "query",
    [
        "status=late",
        "team=abc",
        "theme=-1",
        "priority=asap",
        "owner=you",
        "raised_from=2026-02-30",
        "raised_within=5",
        "sort=name",
        "cycle=0",
    ],
)
def test_bad_filter_values_are_422s_naming_the_parameter(client, world, as_, query):
    response = client.get(f"{URL}?{query}", headers=as_("lead"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", query.split("=")[0]]


def test_a_head_of_service_never_sees_another_areas_items(client, db, world, as_):
    ours = make_item(db, world)
    theirs = make_item(db, world, case=world.other_case, owner=world.bystander)
    other_area = world.other_team.service_area_id
    hos = as_("hos")
    assert [i["id"] for i in client.get(URL, headers=hos).json()["items"]] == [ours.id]
    assert client.get(f"{URL}?service_area={other_area}", headers=hos).json() == {
        "items": [],
        "total": 0,
        "page": 1,
        "page_size": 50,
    }
    assert client.get(f"{URL}?team={world.other_team.id}", headers=hos).json()["total"] == 0
    assert client.get(f"{URL}/{theirs.id}", headers=hos).status_code == 404
    assert _patch(client, hos, theirs.id, version=1, status="closed").status_code == 404
    # ...and the other head of service sees only theirs.
    assert [i["id"] for i in client.get(URL, headers=as_("otherhos")).json()["items"]] == [theirs.id]


def test_viewer_and_bystander_see_nothing_of_it(client, db, world, as_, item):
    bystander = as_("bystander")
    assert client.get(URL, headers=bystander).json()["total"] == 0
    assert client.get(f"{URL}/{item.id}", headers=bystander).status_code == 404
    assert _patch(client, bystander, item.id, version=1, status="in_progress").status_code == 404
    # A read-only viewer does not work with recommendations at all: refused, as on the pages (the same guard).
    viewer = as_("viewer")
    for response in (
        client.get(URL, headers=viewer),
        client.get(f"{URL}/{item.id}", headers=viewer),
        _patch(client, viewer, item.id, version=1, status="in_progress"),
    ):
        assert response.status_code == 403 and "You need the" in response.json()["detail"]
    login(client, "viewer")
    assert client.get(f"/recommendations/{item.id}").status_code == 403
    assert client.get(URL).status_code == 401


def test_reading_one_on_a_childs_case_is_in_the_audit_trail(client, db, world, as_, item):
    assert client.get(URL, headers=as_("hos")).status_code == 200
    assert _events(db, "recommendation.view") == []  # as with cases, a list is not a view of each record
    response = client.get(f"{URL}/{item.id}", headers=as_("hos"))
    assert response.status_code == 200 and response.json()["child_id"] == "CHILD0001"
    (event,) = _events(db, "recommendation.view")
    assert (event.actor_id, event.entity_type, event.entity_id) == (world.hos.id, "recommendation", str(item.id))
