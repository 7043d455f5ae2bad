"""`GET /api/v1/reports/summary` on the hand-built audits of tests/reports/conftest.py (`rw`) and the
recommendations of tests/reports/test_sections.py (`rec`): the shape and the hand-counted values, the contract's
parameter names, bad values named (422), roles and scope (403 for another area)."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.roles import Role
from app.reports.filters import default_period
from app.reports.stats import Spread, clustered_rate, rate
from tests.factories import api_headers, make_user
from tests.reports.conftest import CFA, FRAME_SIZE
from tests.reports.test_sections import KAPPA_ALL, RecWorld, recommendations_world

URL = "/api/v1/reports/summary"
PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


@pytest.fixture
def rec(db, rw) -> RecWorld:
    return recommendations_world(db, rw)


def summary(client, user, **params):
    return client.get(URL, headers=api_headers(client, user.username), params={**PERIOD, **params})


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def fields_at_fault(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [entry["loc"][-1] for entry in response.json()["detail"]]


def question(body: dict, template: str, key: str) -> dict:
    (found,) = [q for q in body["compliance"]["questions"] if (q["template_key"], q["question_key"]) == (template, key)]
    return found


def test_the_qa_lead_gets_the_hand_counted_summary(client, rec):
    body = ok(summary(client, rec.rw.lead))
    assert (body["from"], body["to"], body["cycle_id"], body["service_area"]) == (
        "2026-01-01",
        "2026-06-30",
        None,
        None,
    )
    assert (body["audits"], body["min_n"]) == (6, 10)
    # a1 good, a2 RI, a3 outstanding, a4 inadequate; a5, a6 (dip sample) ungraded
    grades = body["grade_distribution"]
    assert (grades["graded"], grades["ungraded"]) == (4, 2)
    assert [(g["grade"], g["count"], g["share"]) for g in grades["grades"]] == [
        ("outstanding", 1, 0.25),
        ("good", 1, 0.25),
        ("requires_improvement", 1, 0.25),
        ("inadequate", 1, 0.25),
    ]
    assert grades["grades"][2]["label"] == "Requires improvement to be good"
    by_area = {g["name"]: (g["graded"], g["ungraded"]) for g in grades["by_service_area"]}
    assert by_area == {"Children in care": (1, 1), "Safeguarding": (3, 1)}
    assert {g["name"] for g in grades["by_team"]} == {"Care", "North", "South"}
    # case file audit chronology: a1 yes, a2 no, a3 yes, a4 n/a
    chronology = question(body, CFA, "chronology_up_to_date")
    expected = rate(2, 1)
    assert (chronology["yes"], chronology["no"], chronology["na"], chronology["n"]) == (2, 1, 1, 3)
    assert chronology["rate"] == pytest.approx(2 / 3)
    assert chronology["interval"] == pytest.approx([expected.interval.low, expected.interval.high])
    assert chronology["too_few"] is True and chronology["population"] is None
    assert body["compliance"]["frame_size"] is None
    sections = body["compliance"]["sections"]
    assert sections and all(
        {"template_key", "section_key", "section_title", "n", "interval"} <= s.keys() for s in sections
    )
    # five pairs of overall grades, one the same (a4 round 2)
    moderation = body["moderation"]
    assert (moderation["rounds"], moderation["n"], moderation["agreed"]) == (5, 5, 1)
    assert moderation["exact_agreement"] == pytest.approx(0.2)
    assert moderation["weighted_kappa"] == pytest.approx(KAPPA_ALL)
    low, high = moderation["kappa_interval"]
    assert low < KAPPA_ALL < high and moderation["too_few"] is True and "quadratic" in moderation["method"]
    recommendations = body["recommendations"]
    assert {k: recommendations[k] for k in ("raised", "closed", "outstanding", "overdue", "median_days_to_close")} == {
        "raised": 7,
        "closed": 3,
        "outstanding": 5,
        "overdue": 3,
        "median_days_to_close": 20.0,
    }
    assert [(t["name"], t["count"]) for t in recommendations["top_themes"]] == [
        ("Report theme A", 3),
        ("Report theme B", 3),
        ("Report theme C", 1),
        ("Report theme D", 1),
        ("Report theme E", 1),
    ]
    assert recommendations["top_themes"][0]["id"] == rec.themes["A"].id


def test_one_cycle_is_one_sample_corrected_for_its_frame(client, rec):
    body = ok(summary(client, rec.rw.lead, cycle_id=str(rec.rw.cycle_a.id)))
    assert (body["cycle_id"], body["audits"]) == (rec.rw.cycle_a.id, 3)
    assert body["compliance"]["frame_size"] == FRAME_SIZE
    chronology = question(body, CFA, "chronology_up_to_date")  # a1 yes, a2 no, a3 yes
    corrected = rate(2, 1, population=FRAME_SIZE)
    assert chronology["population"] == FRAME_SIZE
    assert chronology["interval"] == pytest.approx([corrected.interval.low, corrected.interval.high])
    assert (body["moderation"]["n"], body["recommendations"]["raised"]) == (3, 3)  # a2 (2 rounds), a3; r1 r2 r4


def test_a_sections_interval_allows_for_answers_of_one_audit_moving_together(client, rec):
    """Section B of cycle A: a1 (yes, yes), a2 (no, yes), a3 (yes, no). Its interval is worked out over the 3 audits
    and corrected for 3 sampled cases of the frame, not for 6 answers."""
    body = ok(summary(client, rec.rw.lead, cycle_id=str(rec.rw.cycle_a.id)))
    assert body["compliance"]["audits"] == 3
    (section,) = [s for s in body["compliance"]["sections"] if s["section_key"] == "history_chronology"]
    expected = clustered_rate(4, 2, Spread(audits=3, yy=6, yn=8, nn=12), population=FRAME_SIZE, sampled=3)
    assert (section["yes"], section["no"], section["audits"], section["population"]) == (4, 2, 3, FRAME_SIZE)
    assert section["interval"] == pytest.approx([expected.interval.low, expected.interval.high])
    assert section["design_effect"] == pytest.approx(expected.design_effect) and section["design_effect"] >= 1
    as_independent = rate(4, 2, population=FRAME_SIZE)
    assert section["interval"][0] < as_independent.interval.low
    # every template's compliance over all its questions, clustered the same way
    overall = {t["template_key"]: t for t in body["compliance"]["overall"]}
    assert overall[CFA]["audits"] == 3 and overall[CFA]["n"] >= section["n"]
    # a question has one answer per audit: plain Wilson, no design effect
    assert question(body, CFA, "chronology_up_to_date")["design_effect"] is None


def test_a_service_area_narrows_everything(client, rec):
    body = ok(summary(client, rec.rw.lead, service_area=str(rec.in_care)))
    assert (body["service_area"], body["audits"]) == (rec.in_care, 2)  # a4, a6
    assert [g["name"] for g in body["grade_distribution"]["by_service_area"]] == ["Children in care"]
    assert (body["moderation"]["n"], body["moderation"]["agreed"]) == (2, 1)  # a4's two rounds
    r = body["recommendations"]
    assert (r["raised"], r["closed"], r["outstanding"], r["overdue"]) == (1, 0, 2, 1)  # r6; r6 r7


def test_the_default_period_is_the_pages(client, rw, settings):
    response = client.get(URL, headers=api_headers(client, rw.lead.username))
    body = ok(response)
    first, last = default_period(settings.today())
    assert (body["from"], body["to"]) == (first.isoformat(), last.isoformat())


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"from": "2026-13-01"}, ["from"]),
        ({"to": "yesterday"}, ["to"]),
        ({"from": "2026-06-30", "to": "2026-01-01"}, ["to"]),
        ({"from": "0001-01-01"}, ["from"]),
        ({"from": "2026-01-01T00:00"}, ["from"]),  # longer than a date: refused before it is read
        ({"cycle_id": "abc"}, ["cycle_id"]),
        ({"cycle_id": "0"}, ["cycle_id"]),
        ({"cycle_id": "99999999999999999999"}, ["cycle_id"]),
        ({"service_area": "-1"}, ["service_area"]),
        ({"team": "x"}, ["team"]),
        ({"template": "Not a key!"}, ["template"]),
        ({"case_type": "bogus"}, ["case_type"]),
        ({"cycle_id": "x", "from": "2026-02-30"}, ["from", "cycle_id"]),
    ],
)
def test_bad_values_are_named(client, rw, params, fields):
    response = client.get(URL, headers=api_headers(client, rw.lead.username), params=params)
    assert sorted(fields_at_fault(response)) == sorted(fields)
    assert all(entry["loc"][0] == "query" and entry["msg"] for entry in response.json()["detail"])


@pytest.mark.parametrize("name", ["cycle_id", "service_area", "team"])
def test_a_row_that_does_not_exist_is_404(client, rw, name):
    response = summary(client, rw.lead, **{name: "987654"})
    assert response.status_code == 404 and "987654 not found" in response.json()["detail"]


def test_a_head_of_service_gets_their_own_area(client, rec):
    body = ok(summary(client, rec.rw.hos))
    assert (body["service_area"], body["audits"]) == (rec.safeguarding, 4)  # a1 a2 a3 a5
    assert [g["name"] for g in body["grade_distribution"]["by_service_area"]] == ["Safeguarding"]
    assert (body["moderation"]["n"], body["moderation"]["agreed"]) == (3, 0)
    r = body["recommendations"]
    assert (r["raised"], r["closed"], r["outstanding"], r["overdue"], r["median_days_to_close"]) == (5, 3, 2, 1, 20.0)
    assert "Report theme D" not in {t["name"] for t in r["top_themes"]}  # r9 has no area
    assert ok(summary(client, rec.rw.hos, service_area=str(rec.safeguarding))) == body  # naming it is the same


def test_a_head_of_service_asking_for_another_area_is_refused(client, rec):
    response = summary(client, rec.rw.hos, service_area=str(rec.in_care))
    assert response.status_code == 403
    assert response.json()["detail"] == "You can see reports for your own service area only"
    # a malformed value is still a 422, not a refusal
    assert fields_at_fault(summary(client, rec.rw.hos, service_area="abc")) == ["service_area"]


def test_a_head_of_service_without_an_area_is_refused(client, db, rw):
    make_user(db, username="rnoarea", roles=(Role.HEAD_OF_SERVICE,))
    response = client.get(URL, headers=api_headers(client, "rnoarea"))
    assert response.status_code == 403


def test_a_viewer_sees_every_area(client, rec):
    body = ok(summary(client, rec.rw.viewer))
    assert body["audits"] == 6 and body["recommendations"]["outstanding"] == 5


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PRACTITIONER, Role.MODERATOR])
def test_other_roles_are_refused(client, db, rw, role):
    make_user(db, username=f"rapi_{role.value}", roles=(role,))
    response = client.get(URL, headers=api_headers(client, f"rapi_{role.value}"), params=PERIOD)
    assert response.status_code == 403 and "audits" not in response.json()


def test_no_token_is_401(client, rw):
    response = client.get(URL, params=PERIOD)
    assert response.status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_the_contract_is_in_the_openapi_document(client):
    operation = client.get("/openapi.json").json()["paths"][URL]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"cycle_id", "from", "to", "service_area"} <= names
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema == "ReportSummary"


def test_dates_are_returned_as_iso_dates(client, rw):
    body = ok(summary(client, rw.lead, **{"from": "2026-06-01", "to": "2026-06-01"}))
    assert date.fromisoformat(body["from"]) == date(2026, 6, 1) == date.fromisoformat(body["to"])
    assert body["audits"] == 1  # a3: 31 May 23:30 UTC is 1 June in London
