"""The case and import lookups the pages and the API share: the same cases for the same people, each surface reading
the id its own way (a page: any text, 404 unless it names a case you may see; the API: a number, 422 otherwise)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.roles import Role
from app.cases import service as case_service
from app.cases.imports import permissions as import_permissions
from app.cases.lookups import case_number
from app.cases.readers import UploadedFile
from tests.factories import api_headers, login, make_case, make_team, make_user


def test_case_numbers_in_addresses():
    assert case_number("42") == 42 and case_number(" 7 ") == 7
    for junk in ("", None, "abc", "-1", "4.2", "¹", "२", "9" * 13):
        assert case_number(junk) is None, junk


def test_only_an_active_qa_lead_manages_imports():
    def person(*roles, active=True):
        return SimpleNamespace(active=active, has_role=lambda *wanted: bool(set(roles) & set(wanted)))

    assert import_permissions.may_manage_imports(person(Role.QA_LEAD))
    assert not import_permissions.may_manage_imports(person(Role.QA_LEAD, active=False))
    assert not import_permissions.may_manage_imports(person(*[r for r in Role if r != Role.QA_LEAD]))


@pytest.fixture
def cases(db):
    north, south = (
        make_team(db, name="North", service_area="North area"),
        make_team(db, name="South", service_area="South area"),
    )
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,), team=north)
    return SimpleNamespace(
        mine=make_case(db, team=north, child_id="N0001"), theirs=make_case(db, team=south, child_id="S0001")
    )


def test_the_page_and_the_api_show_the_same_cases_to_the_same_people(client, cases):
    headers = api_headers(client, "hos")
    login(client, "hos")
    for case, status in ((cases.mine, 200), (cases.theirs, 404)):
        assert client.get(f"/cases/{case.id}").status_code == status
        assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == status
    assert client.get(f"/api/v1/cases/{cases.theirs.id}", headers=headers).json() == {
        "detail": f"Case {cases.theirs.id} not found"
    }
    # Bad ids: the page says not found; the API calls a non-number bad input. Never a 500.
    for junk in ("abc", "0", "-1", "9" * 30):
        assert client.get(f"/cases/{junk}").status_code == 404, junk
    assert client.get("/api/v1/cases/abc", headers=headers).status_code == 422
    assert client.get(f"/api/v1/cases/{'9' * 30}", headers=headers).status_code == 404


def test_imports_are_found_alike_on_the_page_and_the_api(client, db, cases):
    lead = db.execute(select(User).where(User.username == "lead")).scalar_one()
    case_import = case_service.import_prepare(
        db,
        files=[UploadedFile("x.csv", b"child_id,case_type\nX0001,cin\n")],
        format="csv",
        full=False,
        actor=lead,
        today=date(2026, 11, 26),
    )
    headers = api_headers(client, "lead")
    login(client, "lead")
    assert client.get(f"/imports/{case_import.id}").status_code == 200
    assert client.get(f"/api/v1/imports/{case_import.id}", headers=headers).json()["id"] == case_import.id
    assert client.get("/imports/999999").status_code == 404
    assert client.get("/api/v1/imports/999999", headers=headers).json() == {"detail": "Import 999999 not found"}
    login(client, "hos")
    assert client.get(f"/imports/{case_import.id}").status_code == 403
