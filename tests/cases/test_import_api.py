"""`/api/v1/imports`: 201 and 422 shapes per the contract, bad input never a 500, QA lead only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.roles import Role
from app.cases.models import Case
from tests.conftest import SHARED_DATA
from tests.factories import api_headers, make_team, make_user

HEADER = "child_id,case_type,status,start_date,birth_year,birth_month,team"
GOOD = f"{HEADER}\nA1,cla,open,01/02/2024,2015,3,North Team\nA2,cp,open,01/03/2024,2018,7,North Team\n".encode()
BAD = f"{HEADER}\nA1,cla,open,01/02/2024,2015,3,North Team\nA2,wizard,open,01/03/2024,2018,7,North Team\n".encode()
ANNEX_A = SHARED_DATA / "annex-a-sample/Annex_A.xlsx"
CONTRACT_KEYS = {"id", "status", "format", "rows_read", "created", "updated", "closed", "rejected", "errors"}


@pytest.fixture
def lead_headers(client, db):
    make_team(db, name="North Team")
    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    return api_headers(client, "qa")


def post(client, headers, content: bytes | None = GOOD, name="register.csv", **data):
    files = [("file", (name, content, "text/csv"))] if content is not None else None
    return client.post("/api/v1/imports", headers=headers, files=files, data={"format": "csv", **data})


def case_count(db) -> int:
    return db.execute(select(func.count()).select_from(Case)).scalar_one()


def test_import_returns_201_with_the_counts(client, db, lead_headers):
    response = post(client, lead_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= CONTRACT_KEYS
    assert (
        body["status"],
        body["format"],
        body["rows_read"],
        body["created"],
        body["updated"],
        body["closed"],
        body["rejected"],
        body["errors"],
    ) == ("committed", "csv", 2, 2, 0, 0, 0, [])
    assert case_count(db) == 2
    again = post(client, lead_headers).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_all_or_nothing_with_an_error_is_422_with_the_same_body_and_writes_nothing(client, db, lead_headers):
    response = post(client, lead_headers, BAD)
    assert response.status_code == 422
    body = response.json()
    assert set(body) >= CONTRACT_KEYS and body["status"] == "rejected" and body["rejected"] == 1
    [error] = body["errors"]
    assert {k: error[k] for k in ("sheet", "row", "column", "value")} == {
        "sheet": "register.csv",
        "row": 3,
        "column": "case_type",
        "value": "wizard",
    }
    assert "not a case type" in error["message"]
    assert case_count(db) == 0
    # The rejected import is still on record.
    fetched = client.get(f"/api/v1/imports/{body['id']}", headers=lead_headers)
    assert fetched.status_code == 200 and fetched.json()["status"] == "rejected"


def test_skip_invalid_imports_the_valid_rows(client, db, lead_headers):
    response = post(client, lead_headers, BAD, mode="skip_invalid")
    assert response.status_code == 201
    assert (response.json()["created"], response.json()["rejected"]) == (1, 1)


def test_unknown_format_and_missing_file_name_the_field(client, lead_headers):
    response = post(client, lead_headers, format="pdf")
    assert response.status_code == 422
    assert ["body", "format"] in [d["loc"] for d in response.json()["detail"]]
    response = post(client, lead_headers, None)
    assert response.status_code == 422
    assert ["body", "file"] in [d["loc"] for d in response.json()["detail"]]


@pytest.mark.parametrize("format", ["annex_a", "csv", "ssda903"])
def test_a_file_that_is_not_the_format_is_422_not_500(client, db, lead_headers, format):
    junk = bytes(range(256)) * 20
    response = post(client, lead_headers, junk, name="extract.xlsx", format=format)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == "rejected" and body["errors"]
    assert all(e["message"] for e in body["errors"])
    assert case_count(db) == 0


@pytest.mark.skipif(not ANNEX_A.exists(), reason="the Annex A sample is not available")
def test_the_annex_a_sample_imports(client, db, lead_headers):
    response = post(
        client, lead_headers, ANNEX_A.read_bytes(), name="Annex_A.xlsx", format="annex_a", mode="skip_invalid"
    )
    assert response.status_code == 201, response.text
    assert response.json()["created"] > 0 and case_count(db) == response.json()["created"]


def test_imports_are_listed_and_fetched(client, lead_headers):
    created = post(client, lead_headers).json()
    listing = client.get("/api/v1/imports?page=1&page_size=10", headers=lead_headers).json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["page_size"] == 10
    assert listing["items"][0]["id"] == created["id"]
    assert listing["items"][0]["file_names"] == ["register.csv"] and len(listing["items"][0]["file_hashes"][0]) == 64
    missing = client.get("/api/v1/imports/999999", headers=lead_headers)
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]


def test_only_the_qa_lead_may_import(client, db):
    make_user(db, username="aud", roles=(Role.AUDITOR, Role.HEAD_OF_SERVICE))
    response = post(client, api_headers(client, "aud"))
    assert response.status_code == 403 and "You need the" in response.json()["detail"]
    assert case_count(db) == 0
    assert client.get("/api/v1/imports", headers=api_headers(client, "aud")).status_code == 403


def test_anonymous_is_401(client, db):
    assert post(client, {}).status_code == 401
    assert client.get("/api/v1/imports").status_code == 401
    assert case_count(db) == 0
