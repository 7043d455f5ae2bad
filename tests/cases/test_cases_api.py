"""GET /api/v1/cases and /api/v1/cases/{id}: the contract, filters, bad input and the view log."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.db import MAX_ROW_ID
from tests.factories import api_headers, make_case, make_team, make_user


@pytest.fixture
def setup(client, db):
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    north = make_team(db, name="North Team", service_area="Safeguarding")
    care = make_team(db, name="Care Team", service_area="Children in Care")
    cases = {
        "a": make_case(
            db,
            child_id="AB1001",
            case_type="cp",
            team=north,
            worker_name="Ann Lee",
            start_date=date(2025, 3, 1),
            missing_12m=0,
        ),
        "b": make_case(
            db,
            child_id="AB1002",
            case_type="cla",
            team=care,
            worker_name="Bo Kay",
            start_date=date(2024, 7, 9),
            missing_12m=2,
            involvements={"List 8": {"start": "2024-07-09", "end": None}},
        ),
        "closed": make_case(db, child_id="AB0999", team=north, status="closed", end_date=date(2022, 6, 1)),
    }
    return {"headers": api_headers(client, "lead"), "north": north, "care": care, **cases}


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["child_id"] for item in response.json()["items"]]


def test_list_is_a_page_of_open_cases(client, setup):
    response = client.get("/api/v1/cases", headers=setup["headers"])
    body = response.json()
    assert set(body) == {"items", "total", "page", "page_size"}
    assert (body["total"], body["page"], body["page_size"]) == (2, 1, 50)
    first = body["items"][0]
    assert first["child_id"] == "AB1001" and first["case_type"] == "cp"
    assert first["case_type_label"] == "Child protection" and first["team"] == "North Team"
    assert first["service_area"] == "Safeguarding" and first["start_date"] == "2025-03-01"
    assert "notes" not in " ".join(first)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "closed"}, ["AB0999"]),
        ({"status": "all"}, ["AB0999", "AB1001", "AB1002"]),
        ({"case_type": "cla"}, ["AB1002"]),
        ({"team": "care team"}, ["AB1002"]),
        ({"team": " North   Team "}, ["AB1001"]),
        ({"service_area": "SAFEGUARDING", "status": "all"}, ["AB0999", "AB1001"]),
        ({"team": "999999"}, []),
        ({"team": str(MAX_ROW_ID + 1)}, []),
        ({"team": "9" * 30}, []),
        ({"worker": "Bo Kay"}, ["AB1002"]),
        ({"q": "AB100"}, ["AB1001", "AB1002"]),
        ({"flag": "missing"}, ["AB1002"]),
        ({"sort": "start_date", "order": "desc"}, ["AB1001", "AB1002"]),
    ],
)
def test_filters(client, setup, params, expected):
    assert _ids(client.get("/api/v1/cases", params=params, headers=setup["headers"])) == expected


def test_team_and_area_by_id(client, setup):
    headers = setup["headers"]
    assert _ids(client.get("/api/v1/cases", params={"team": setup["care"].id}, headers=headers)) == ["AB1002"]
    area = setup["north"].service_area_id
    assert _ids(client.get("/api/v1/cases", params={"service_area": area}, headers=headers)) == ["AB1001"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sideways"}, "status"),
        ({"case_type": "nope"}, "case_type"),
        ({"sort": "password_hash"}, "sort"),
        ({"page": 0}, "page"),
        ({"page_size": 501}, "page_size"),
        ({"age_band": "3-7"}, "age_band"),
        ({"flag": "bogus"}, "flag"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, setup, params, field):
    response = client.get("/api/v1/cases", params=params, headers=setup["headers"])
    assert response.status_code == 422
    assert any(field in err["loc"] for err in response.json()["detail"])


def test_unknown_team_name_is_422(client, setup):
    response = client.get("/api/v1/cases", params={"team": "No Such Team"}, headers=setup["headers"])
    assert response.status_code == 422
    assert "No Such Team" in str(response.json()["detail"])


def test_paging(client, db, setup):
    for n in range(7):
        make_case(db, child_id=f"PG{n:03d}")
    page = client.get("/api/v1/cases", params={"q": "PG", "page": 2, "page_size": 3}, headers=setup["headers"])
    assert _ids(page) == ["PG003", "PG004", "PG005"] and page.json()["total"] == 7
    past = client.get("/api/v1/cases", params={"q": "PG", "page": 9, "page_size": 3}, headers=setup["headers"])
    assert _ids(past) == [] and past.json()["total"] == 7


def test_get_one_case_is_logged_as_a_view(client, db, setup):
    case = setup["b"]
    response = client.get(f"/api/v1/cases/{case.id}", headers=setup["headers"])
    assert response.status_code == 200
    body = response.json()
    assert body["child_id"] == "AB1002" and body["missing_12m"] == 2 and body["team"] == "Care Team"
    assert body["involvements"] == {"List 8": {"start": "2024-07-09", "end": None}}
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "case.view")).scalars().all()
    assert [(e.entity_type, e.entity_id, e.actor_label) for e in events] == [("case", str(case.id), "lead")]
    client.get("/api/v1/cases", headers=setup["headers"])  # the list logs no views
    assert len(db.execute(select(AuditEvent).where(AuditEvent.action == "case.view")).all()) == 1


@pytest.mark.parametrize("case_id", ["987654", str(MAX_ROW_ID + 1), "9" * 30])
def test_unknown_case_is_404(client, setup, case_id):
    response = client.get(f"/api/v1/cases/{case_id}", headers=setup["headers"])
    assert response.status_code == 404 and response.json() == {"detail": f"Case {case_id} not found"}


def test_non_numeric_id_is_422(client, setup):
    assert client.get("/api/v1/cases/abc", headers=setup["headers"]).status_code == 422
