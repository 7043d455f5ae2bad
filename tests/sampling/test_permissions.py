"""Who may run the programme (`app.sampling.permissions`), and the cycle and sample lookups the pages and the API
share: the QA lead reaches existing ones, unknown ones are 404 on both, anyone else is refused first (403)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from app.accounts.roles import Role
from app.sampling import permissions
from app.sampling.models import Cycle
from tests.factories import api_headers, login, make_user, publish_templates


def _person(*roles, active=True):
    return SimpleNamespace(active=active, has_role=lambda *wanted: bool(set(roles) & set(wanted)))


def test_only_an_active_qa_lead_manages_the_programme():
    assert permissions.may_manage_programme(_person(Role.QA_LEAD))
    assert permissions.may_manage_programme(_person(Role.QA_LEAD, Role.AUDITOR))
    assert not permissions.may_manage_programme(_person(Role.QA_LEAD, active=False))
    assert not permissions.may_manage_programme(_person(*[r for r in Role if r != Role.QA_LEAD]))


@pytest.fixture
def cycle(db):
    publish_templates(db)
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    make_user(db, username="auditor", roles=(Role.AUDITOR,))
    row = Cycle(
        title="Spring dip",
        kind="dip_sample",
        template_key="dip_sample",
        template_version=1,
        due_date=date(2026, 12, 31),
    )
    db.add(row)
    db.flush()
    return row


def test_pages_and_api_find_the_same_cycles(client, cycle):
    headers = api_headers(client, "lead")
    login(client, "lead")
    assert client.get(f"/programme/{cycle.id}").status_code == 200
    missing = client.get("/programme/999999")
    assert missing.status_code == 404 and "There is no audit cycle with that number." in missing.text
    spec = {"method": "random", "size": 1, "seed": 1, "dry_run": True}
    assert client.post(f"/api/v1/cycles/{cycle.id}/samples", json=spec, headers=headers).status_code == 200
    response = client.post("/api/v1/cycles/999999/samples", json=spec, headers=headers)
    assert response.status_code == 404 and response.json() == {"detail": "Cycle 999999 not found"}
    response = client.post("/api/v1/samples/999999/allocate", json={}, headers=headers)
    assert response.status_code == 404 and response.json() == {"detail": "Sample 999999 not found"}
    assert client.get("/samples/999999").status_code == 404


def test_anyone_else_is_refused_before_anything_is_looked_up(client, cycle):
    headers = api_headers(client, "auditor")
    for url in (f"/api/v1/cycles/{cycle.id}/samples", "/api/v1/cycles/999999/samples"):
        response = client.post(url, json={"method": "random", "size": 1}, headers=headers)
        assert response.status_code == 403 and "You need the QA lead role" in response.json()["detail"]
    login(client, "auditor")
    for url in (f"/programme/{cycle.id}", "/programme/999999", "/samples/999999"):
        assert client.get(url).status_code == 403, url
