"""The audit JSON API: list, fetch, save answers (409 stale, 422 naming the question), submit."""

from __future__ import annotations

import pytest

from tests.factories import api_headers, make_audit

ALL_YES = {
    "chronology_up_to_date": "yes",
    "assessment_within_45_days": "no",
    "oversight_last_month": "yes",
    "supervision_within_6_weeks": "yes",
    "child_voice_recorded": "yes",
    "plan_reviewed_on_time": "na",
    "seen_alone_last_visit": "yes",
    "child_missing_12m": "no",
    "immediate_safeguarding_concern": "no",
}


@pytest.fixture
def audit(db, templates, people, case):
    return make_audit(db, case=case, auditor=people.auditor, actor=people.lead)


@pytest.fixture
def auditor(client, people):
    return api_headers(client, "auditor")


def test_get_an_audit_with_its_answers_and_suggestions(client, audit, auditor):
    response = client.get(f"/api/v1/audits/{audit.id}", headers=auditor)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == audit.id and body["case_id"] == audit.case_id and body["child_id"] == "CHILD0001"
    assert (body["template_key"], body["template_version"], body["status"], body["version"]) == (
        "dip_sample",
        2,
        "allocated",
        1,
    )
    assert body["answers"] == {}
    assert body["suggestions"]["assessment_within_45_days"]["value"] == "no"
    assert "64 working days" in body["suggestions"]["assessment_within_45_days"]["explanation"]
    assert body["suggestions"]["seen_alone_last_visit"]["value"] == "yes"


def test_save_answers_returns_the_audit_at_its_new_version(client, audit, auditor):
    response = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": 1, "answers": {"chronology_up_to_date": "yes", "assessment_within_45_days": "yes"}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and body["status"] == "in_progress"
    assert body["answers"] == {"chronology_up_to_date": "yes", "assessment_within_45_days": "yes"}
    # The suggestion stays beside the answer that differs from it.
    assert body["suggestions"]["assessment_within_45_days"]["value"] == "no"


def test_a_stale_version_is_a_conflict_and_saves_nothing(client, audit, auditor):
    client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": 1, "answers": {"chronology_up_to_date": "yes"}},
    )
    stale = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": 1, "answers": {"chronology_up_to_date": "no"}},
    )
    assert stale.status_code == 409
    body = stale.json()
    assert "also changed by someone else" in body["detail"] and body["version"] == 2
    assert [(c["question"], c["yours"], c["saved"]) for c in body["conflicts"]] == [
        ("chronology_up_to_date", "no", "yes")
    ]
    assert client.get(f"/api/v1/audits/{audit.id}", headers=auditor).json()["answers"] == {
        "chronology_up_to_date": "yes"
    }


def test_a_nul_in_an_answer_is_refused_naming_the_question_before_anything_is_saved(client, audit, auditor):
    response = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": 1, "answers": {"oversight_last_month": "yes", "comments": "a\x00b"}},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "answers.comments"]
    assert "cannot be stored" in response.json()["detail"][0]["msg"]
    assert client.get(f"/api/v1/audits/{audit.id}", headers=auditor).json()["version"] == 1  # nothing saved


@pytest.mark.parametrize(
    ("answers", "key", "message"),
    [
        ({"chronology_up_to_date": "maybe"}, "chronology_up_to_date", "Select Yes, No or Not applicable"),
        ({"chronology_up_to_date": ["yes"]}, "chronology_up_to_date", "Select Yes, No or Not applicable"),
        ({"no_such_question": "yes"}, "no_such_question", "This template has no question 'no_such_question'"),
        ({"comments": 12}, "comments", "Enter text"),
    ],
)
def test_an_invalid_answer_is_a_422_naming_the_question(client, audit, auditor, answers, key, message):
    response = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": 1, "answers": {"oversight_last_month": "yes", **answers}},
    )
    assert response.status_code == 422
    body = response.json()
    assert list(body["errors"]) == [key] and message in body["errors"][key]
    assert body["detail"][0]["loc"] == ["body", "answers", key]
    assert client.get(f"/api/v1/audits/{audit.id}", headers=auditor).json()["version"] == 1  # nothing saved


def test_submit_lists_each_missing_answer_then_succeeds(client, audit, auditor):
    client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": 1, "answers": {"chronology_up_to_date": "no"}},
    )
    missing = client.post(f"/api/v1/audits/{audit.id}/submit", headers=auditor, json={"version": 2})
    assert missing.status_code == 422
    errors = missing.json()["errors"]
    assert "chronology_up_to_date__explanation" in errors and "immediate_safeguarding_concern" in errors
    assert "return_interview_within_72_hours" not in errors  # hidden: child_missing_12m is not Yes
    saved = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": 2, "answers": {**ALL_YES, "chronology_up_to_date__explanation": "Old"}},
    )
    assert saved.status_code == 200, saved.text
    submitted = client.post(f"/api/v1/audits/{audit.id}/submit", headers=auditor, json={"version": 3})
    assert submitted.status_code == 200, submitted.text
    # Not picked for moderation (an ad-hoc dip sample has no rate and no grade): completed straight away.
    assert submitted.json()["status"] == "completed" and submitted.json()["submitted_at"]
    again = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=auditor,
        json={"version": submitted.json()["version"], "answers": {"comments": "late"}},
    )
    assert again.status_code == 409 and "completed" in again.text


def test_someone_else_gets_404_and_the_lead_may_read_but_not_write(client, audit, people):
    other = api_headers(client, "other")
    assert client.get(f"/api/v1/audits/{audit.id}", headers=other).status_code == 404
    assert (
        client.put(f"/api/v1/audits/{audit.id}/answers", headers=other, json={"version": 1, "answers": {}}).status_code
        == 404
    )
    assert client.post(f"/api/v1/audits/{audit.id}/submit", headers=other, json={"version": 1}).status_code == 404
    lead = api_headers(client, "lead")
    assert client.get(f"/api/v1/audits/{audit.id}", headers=lead).status_code == 200
    refused = client.put(
        f"/api/v1/audits/{audit.id}/answers",
        headers=lead,
        json={"version": 1, "answers": {"chronology_up_to_date": "yes"}},
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/audits/999999", headers=lead).status_code == 404
    assert client.get("/api/v1/audits/0", headers=lead).status_code == 422


def test_list_my_audits_and_filter_by_status(client, db, audit, people, case, auditor):
    make_audit(db, case=case, auditor=people.other_auditor, actor=people.lead)
    mine = client.get("/api/v1/audits?assignee=me", headers=auditor).json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == audit.id and mine["page_size"] == 50
    assert set(mine["items"][0]) >= {"id", "case_id", "template_key", "template_version", "status", "version"}
    lead = api_headers(client, "lead")
    assert client.get("/api/v1/audits", headers=lead).json()["total"] == 2
    assert client.get("/api/v1/audits?assignee=me", headers=lead).json()["total"] == 0
    assert client.get(f"/api/v1/audits?assignee={people.other_auditor.id}", headers=lead).json()["total"] == 1
    assert client.get("/api/v1/audits?status=submitted", headers=lead).json()["total"] == 0
    assert client.get("/api/v1/audits?status=bogus", headers=lead).status_code == 422
    assert client.get("/api/v1/audits?assignee=someone", headers=lead).status_code == 422
    # An auditor never sees other auditors' audits, whatever they ask for.
    assert client.get(f"/api/v1/audits?assignee={people.other_auditor.id}", headers=auditor).json()["total"] == 0


def test_bad_bodies_are_422_not_500(client, audit, auditor):
    for body in (
        {},
        {"version": "x", "answers": {}},
        {"version": 1},
        {"version": 1, "answers": []},
        {"version": 1, "answers": {}, "extra": 1},
        {"version": 10**20, "answers": {}},
    ):
        response = client.put(f"/api/v1/audits/{audit.id}/answers", headers=auditor, json=body)
        assert response.status_code == 422, body
    big = client.put(
        f"/api/v1/audits/{audit.id}/answers", headers=auditor, json={"version": 1, "answers": {"comments": 10**400}}
    )
    assert big.status_code == 422
