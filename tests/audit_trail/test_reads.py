"""Every read of personal data is in the audit trail: a record as one event naming it, a list or search as one
event with how many were shown and the filter (never the children themselves)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from tests.factories import api_headers, login, make_audit, make_case, make_team, make_user, publish_templates


@pytest.fixture
def world(db):
    publish_templates(db)
    team = make_team(db, name="Safeguarding 1", service_area="Safeguarding")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD, Role.MODERATOR))
    case = make_case(db, child_id="READ0001", team=team)
    audit = make_audit(db, case=case, auditor=lead, actor=lead)
    return {"lead": lead, "audit": audit, "case": case}


def _new_events(db, since: int) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id)).scalars())


def _last_seq(db) -> int:  # the newest event's id (events are numbered as recorded)
    return max([0, *db.execute(select(AuditEvent.id)).scalars()])


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/audits/{audit}", "audit.view"),
        ("/audits/{audit}/sections/compliance", "audit.section_view"),
        ("/api/v1/audits/{audit}", "audit.view"),
    ],
)
def test_reading_an_audit_is_recorded_naming_it(client, db, world, path, action):
    headers = api_headers(client, "lead") if path.startswith("/api/") else None
    if headers is None:
        login(client, "lead")
    since = _last_seq(db)
    response = client.get(path.format(audit=world["audit"].id), headers=headers)
    assert response.status_code == 200, response.text
    reads = [e for e in _new_events(db, since) if e.action == action]
    assert len(reads) == 1
    assert (reads[0].actor_id, reads[0].entity_type, reads[0].entity_id) == (
        world["lead"].id,
        "audit",
        str(world["audit"].id),
    )
    assert "READ0001" not in reads[0].summary


@pytest.mark.parametrize(
    ("path", "params", "action"),
    [
        ("/api/v1/cases", {"q": "READ"}, "case.list"),
        ("/recommendations", {}, "recommendation.list"),
        ("/api/v1/recommendations", {}, "recommendation.list"),
        ("/api/v1/reports/summary", {}, "report.read"),
    ],
)
def test_a_list_is_one_event_with_the_count_and_the_filter(client, db, world, path, params, action):
    headers = api_headers(client, "lead") if path.startswith("/api/") else None
    if headers is None:
        login(client, "lead")
    since = _last_seq(db)
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    (event,) = [e for e in _new_events(db, since) if e.action == action]
    assert event.actor_id == world["lead"].id and "count" in event.after
    for name, value in params.items():
        assert event.after["filter"][name] == value
    if path == "/api/v1/cases":
        assert event.after["count"] == 1


def test_an_import_page_quoting_the_extracts_rows_is_recorded(client, db, world):
    from datetime import date

    from app.cases import service
    from app.cases.readers import UploadedFile

    preview = service.import_prepare(
        db,
        files=[UploadedFile("r.csv", b"child_id,case_type\nREAD0002,nonsense\n")],
        format="csv",
        actor=world["lead"],
        today=date(2026, 11, 26),
    )
    login(client, "lead")
    since = _last_seq(db)
    assert client.get(f"/imports/{preview.id}").status_code == 200
    assert client.get(f"/api/v1/imports/{preview.id}", headers=api_headers(client, "lead")).status_code == 200
    views = [e for e in _new_events(db, since) if e.action == "import.view"]
    assert [v.entity_id for v in views] == [str(preview.id)] * 2
