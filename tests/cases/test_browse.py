"""The case list and case page as a QA lead uses them: filters, search, sorting, pages, facts, the link out, the log."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts.roles import Role
from app.audit_trail.models import AuditEvent
from app.audits import case_scope
from app.cases import selectors
from app.config import Settings
from app.db import MAX_ROW_ID
from tests.factories import login, make_case, make_team, make_user, page_text


def _today(client) -> date:
    return client.app.state.settings.today()


@pytest.fixture
def lead(client, db):
    user = make_user(db, username="lead", roles=(Role.QA_LEAD,))
    assert login(client, "lead").status_code == 303
    return user


@pytest.fixture
def register(db):
    north = make_team(db, name="North Team", service_area="Safeguarding")
    care = make_team(db, name="Care Team", service_area="Children in Care")
    return {
        "north": north,
        "care": care,
        "a": make_case(
            db,
            child_id="AB1001",
            case_type="cp",
            team=north,
            worker_name="Ann Lee",
            start_date=date(2025, 3, 1),
            last_statutory_visit=date(2026, 1, 5),
            birth_year=2019,
            birth_month=6,
        ),
        "b": make_case(
            db,
            child_id="AB1002",
            case_type="cla",
            team=care,
            worker_name="Bo Kay",
            start_date=date(2024, 7, 9),
            last_statutory_visit=None,
            missing_12m=3,
            absent_12m=0,
            birth_year=2011,
            birth_month=2,
        ),
        "c": make_case(
            db,
            child_id="ZX2000",
            case_type="cin",
            team=north,
            worker_name="Ann Lee",
            start_date=date(2023, 1, 2),
            last_statutory_visit=date(2025, 12, 1),
            absent_12m=2,
            birth_year=2008,
            birth_month=12,
        ),
        "closed": make_case(
            db,
            child_id="AB0999",
            case_type="cin",
            team=north,
            status="closed",
            start_date=date(2022, 1, 1),
            end_date=date(2022, 6, 1),
        ),
    }


def _ids_on(response) -> list[str]:
    text = page_text(response.text)
    return [cid for cid in ("AB0999", "AB1001", "AB1002", "ZX2000") if cid in text]


def test_list_shows_open_cases_by_default_with_their_columns(client, lead, register):
    response = client.get("/cases")
    assert response.status_code == 200
    text = page_text(response.text)
    assert _ids_on(response) == ["AB1001", "AB1002", "ZX2000"]
    assert "Showing 1 to 3 of 3 cases" in text
    assert "Child protection" in text and "Child looked after" in text
    assert "North Team" in text and "Ann Lee" in text and "5 January 2026" in text
    assert f'href="/cases/{register["a"].id}"' in response.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "closed"}, ["AB0999"]),
        ({"status": "all"}, ["AB0999", "AB1001", "AB1002", "ZX2000"]),
        ({"status": "nonsense"}, ["AB1001", "AB1002", "ZX2000"]),
        ({"case_type": "cla"}, ["AB1002"]),
        ({"case_type": "not-a-type"}, ["AB1001", "AB1002", "ZX2000"]),
        ({"worker": "Ann  Lee"}, ["AB1001", "ZX2000"]),
        ({"flag": "missing"}, ["AB1002"]),
        ({"flag": "absent"}, ["ZX2000"]),
        ({"flag": "no_visit"}, ["AB1002"]),
        ({"flag": ["missing", "absent"]}, []),
        ({"q": "AB10"}, ["AB1001", "AB1002"]),
        ({"q": "ab1002"}, ["AB1002"]),
        ({"q": " ZX2000 "}, ["ZX2000"]),
        ({"q": "B10"}, []),  # a prefix, not anywhere in the ID
        ({"q": "AB%"}, []),
        ({"team_id": "not-a-number"}, ["AB1001", "AB1002", "ZX2000"]),
        ({"team_id": str(MAX_ROW_ID + 1)}, []),
    ],
)
def test_filters_and_search(client, lead, register, params, expected):
    response = client.get("/cases", params=params)
    assert response.status_code == 200
    assert _ids_on(response) == expected


def test_filter_by_team_and_service_area(client, lead, register):
    assert _ids_on(client.get("/cases", params={"team_id": register["care"].id})) == ["AB1002"]
    area = register["north"].service_area_id
    assert _ids_on(client.get("/cases", params={"service_area_id": area})) == ["AB1001", "ZX2000"]


def test_age_bands_count_from_month_and_year_of_birth(db):
    today = date(2026, 6, 15)
    assert selectors.age_on(2016, 6, today) == 10  # birthday month: counted
    assert selectors.age_on(2016, 7, today) == 9
    assert selectors.age_on(2016, None, today) == 10
    assert selectors.age_on(None, 3, today) is None
    lead = make_user(db, roles=(Role.QA_LEAD,))
    ages = {
        4: make_case(db, birth_year=2022, birth_month=1),
        5: make_case(db, birth_year=2021, birth_month=6),
        9: make_case(db, birth_year=2016, birth_month=7),
        17: make_case(db, birth_year=2008, birth_month=12),
        18: make_case(db, birth_year=2008, birth_month=6),
        21: make_case(db, birth_year=2005, birth_month=1),
    }
    make_case(db, birth_year=None)  # unknown age: in no band

    def band(name: str) -> set[int]:
        page = case_scope.cases_page(db, user=lead, today=today, age_band=name, page_size=100)
        return {age for age, case in ages.items() if case in page.items}

    assert band("0-4") == {4}
    assert band("5-9") == {5, 9}
    assert band("10-15") == set()
    assert band("16-17") == {17}
    assert band("18+") == {18, 21}
    assert case_scope.cases_page(db, user=lead, today=today, age_band="bogus", page_size=100).total == 7


def test_age_band_filter_on_the_page(client, lead, db, register):
    today = _today(client)
    make_case(db, child_id="AG0003", birth_year=today.year - 3, birth_month=1)
    response = client.get("/cases", params={"age_band": "0-4"})
    assert response.status_code == 200
    assert "AG0003" in response.text and _ids_on(response) == []
    assert 'value="0-4" selected' in response.text


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("child_id", "desc", ["ZX2000", "AB1002", "AB1001"]),
        ("start_date", "asc", ["ZX2000", "AB1002", "AB1001"]),
        ("start_date", "desc", ["AB1001", "AB1002", "ZX2000"]),
        ("last_statutory_visit", "asc", ["ZX2000", "AB1001", "AB1002"]),  # never visited: last
        ("last_statutory_visit", "desc", ["AB1001", "ZX2000", "AB1002"]),
        ("team", "asc", ["AB1002", "AB1001", "ZX2000"]),
        ("case_type", "asc", ["ZX2000", "AB1002", "AB1001"]),  # cin, cla, cp
        ("worker", "desc", ["AB1002", "ZX2000", "AB1001"]),
        ("password_hash", "asc", ["AB1001", "AB1002", "ZX2000"]),  # not sortable: child ID order
        ("child_id; drop table child_case", "sideways", ["AB1001", "AB1002", "ZX2000"]),
    ],
)
def test_sorting_is_whitelisted(client, lead, register, sort, order, expected):
    response = client.get("/cases", params={"sort": sort, "order": order})
    assert response.status_code == 200
    text = page_text(response.text)
    positions = [text.index(cid) for cid in expected]
    assert positions == sorted(positions)


def test_sorted_column_is_marked_for_screen_readers_and_links_toggle(client, lead, register):
    response = client.get("/cases", params={"sort": "start_date", "order": "asc", "case_type": "cp"})
    assert 'aria-sort="ascending"' in response.text
    assert response.text.count("aria-sort=") == 1
    assert "sort=start_date&amp;order=desc" in response.text
    assert "case_type=cp" in response.text.split("sort=start_date&amp;order=desc")[0].rsplit("href=", 1)[1]


def test_pagination_and_clamping(client, lead, db):
    for n in range(120):
        make_case(db, child_id=f"PG{n:04d}")
    first = client.get("/cases")
    assert "Showing 1 to 50 of 120 cases" in page_text(first.text)
    assert "PG0000" in first.text and "PG0050" not in first.text
    third = client.get("/cases", params={"page": 3})
    assert "Showing 101 to 120 of 120 cases" in page_text(third.text) and "PG0119" in third.text
    past_the_end = client.get("/cases", params={"page": 99})
    assert "Showing 101 to 120 of 120 cases" in page_text(past_the_end.text)
    for junk in ("0", "-1", "abc", "9" * 40):
        assert client.get("/cases", params={"page": junk}).status_code == 200


def test_empty_state_says_what_to_try(client, lead, register):
    response = client.get("/cases", params={"q": "NOPE"})
    text = page_text(response.text)
    assert "No cases found" in text and "clearing all the filters" in text
    assert "<table" not in response.text


def test_htmx_request_gets_only_the_results(client, lead, register):
    response = client.get("/cases", params={"case_type": "cla"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "AB1002" in response.text and "AB1001" not in response.text
    assert "<form" not in response.text and "<html" not in response.text
    assert response.headers["Vary"] == "HX-Request"


def test_a_list_or_a_search_is_one_event_with_the_count_and_the_filter(client, lead, register, db):
    before = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    page = client.get("/cases", params={"status": "all", "q": "DT"})
    assert page.status_code == 200
    events = db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()[before:]
    (event,) = events
    assert event.action == "case.list" and event.actor_id == lead.id
    assert event.after["filter"]["q"] == "DT" and event.after["filter"]["status"] == "all"
    assert event.summary == f"Listed {event.after['count']} cases"  # how many, never which children


def test_detail_shows_the_facts_and_where_they_came_from(client, lead, db, register):
    case = make_case(
        db,
        child_id="DT0001",
        case_type="cla",
        team=register["care"],
        worker_name="Bo Kay",
        manager_name="Di Ray",
        start_date=date(2024, 11, 26),
        last_statutory_visit=date(2026, 11, 2),
        latest_review=date(2026, 10, 1),
        birth_year=2012,
        birth_month=3,
        gender="Female",
        legal_status="C2",
        missing_12m=2,
        return_interview_offered=True,
        source="annex_a",
        source_lists=["List 6", "List 8"],
        involvements={
            "List 6": {"start": "2024-01-05", "end": "2024-11-25"},
            "List 8": {"start": "2024-11-26", "end": None},
        },
    )
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    text = page_text(response.text)
    for expected in (
        "Child DT0001",
        "Child looked after",
        "Care Team",
        "Children in Care",
        "Bo Kay",
        "Di Ray",
        "26 November 2024",
        "2 November 2026",
        "1 October 2026",
        "March 2012",
        "Female",
        "C2",
        "List 6",
        "5 January 2024",
        "25 November 2024",
        "List 8",
        "Still open",
        "Audits of this case",
        "No audits yet",
    ):
        assert expected in text, expected
    assert "Open in the case management system" not in text  # no template configured


def test_detail_links_to_the_case_system_with_the_id_encoded(client, lead, db):
    case = make_case(db, child_id="A/B 7&x")
    settings: Settings = client.app.state.settings
    original = settings.case_system_url_template
    settings.case_system_url_template = "https://mosaic.example/person/{child_id}?from=audit"
    try:
        response = client.get(f"/cases/{case.id}")
    finally:
        settings.case_system_url_template = original
    assert 'href="https://mosaic.example/person/A%2FB%207%26x?from=audit"' in response.text
    assert "Open in the case management system" in page_text(response.text)


def test_case_system_url_rule():
    assert selectors.case_system_url(None, "X1") is None
    assert selectors.case_system_url("  ", "X1") is None
    assert selectors.case_system_url("https://cms/{child_id}/view", "X 1") == "https://cms/X%201/view"


def test_each_detail_view_is_logged_once(client, lead, db, register):
    case = register["a"]

    def views() -> list[AuditEvent]:
        return list(db.execute(select(AuditEvent).where(AuditEvent.action == "case.view")).scalars())

    assert views() == []
    client.get(f"/cases/{case.id}")
    client.get(f"/cases/{case.id}")
    logged = views()
    assert len(logged) == 2
    assert all(e.actor_id == lead.id and e.entity_type == "case" and e.entity_id == str(case.id) for e in logged)


@pytest.mark.parametrize("case_id", ["999999", str(MAX_ROW_ID + 1), "9" * 30, "abc", "0", "-1"])
def test_unknown_case_is_a_404_page(client, lead, register, db, case_id):
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 404
    assert "Page not found" in page_text(response.text)
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "case.view")).first() is None
