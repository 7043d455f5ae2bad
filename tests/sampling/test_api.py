"""The programme API (QA lead): cycles, samples with dry runs, and sample-size planning, per API.md."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.roles import Role
from app.audit_templates.service import templates_publish
from app.sampling.models import Sample
from tests.factories import api_headers, make_case, make_team, make_user


@pytest.fixture
def headers(client, db):
    templates_publish(db)
    make_user(db, username="lead", roles=(Role.QA_LEAD,))
    team = make_team(db, name="Team A")
    for i in range(60):
        make_case(db, child_id=f"API{i:04d}", team=team)
    return api_headers(client, "lead")


def _cycle(client, headers) -> dict:
    response = client.post(
        "/api/v1/cycles",
        headers=headers,
        json={
            "title": "January dip sample",
            "kind": "dip_sample",
            "template_key": "dip_sample",
            "due_date": "2027-01-31",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_cycle_is_created_and_listed(client, headers):
    cycle = _cycle(client, headers)
    assert (cycle["template_key"], cycle["template_version"], cycle["status"]) == ("dip_sample", 2, "planned")
    listed = client.get("/api/v1/cycles", headers=headers).json()
    assert [c["title"] for c in listed["items"]] == ["January dip sample"] and listed["total"] == 1


def test_bad_cycle_input_names_the_field(client, headers):
    response = client.post(
        "/api/v1/cycles",
        headers=headers,
        json={"title": "", "kind": "weekly", "template_key": "dip_sample", "due_date": "someday"},
    )
    assert response.status_code == 422
    fields = {error["loc"][-1] for error in response.json()["detail"]}
    assert {"title", "kind", "due_date"} <= fields


def test_a_dry_run_then_the_same_seed_stores_exactly_the_preview(client, db, headers):
    cycle = _cycle(client, headers)
    spec = {"method": "random", "size": 12, "exclude_audited_within_days": 365}
    preview = client.post(f"/api/v1/cycles/{cycle['id']}/samples", headers=headers, json={**spec, "dry_run": True})
    assert preview.status_code == 200
    body = preview.json()
    assert body["id"] is None and body["frame_size"] == 60 and len(body["case_ids"]) == 12
    assert len(body["frame_hash"]) == 64 and body["seed"] >= 1
    assert db.execute(select(func.count()).select_from(Sample)).scalar_one() == 0
    stored = client.post(f"/api/v1/cycles/{cycle['id']}/samples", headers=headers, json={**spec, "seed": body["seed"]})
    assert stored.status_code == 201
    assert stored.json()["case_ids"] == body["case_ids"] and stored.json()["frame_hash"] == body["frame_hash"]


def test_a_stratified_sample_reports_its_strata(client, headers):
    cycle = _cycle(client, headers)
    response = client.post(
        f"/api/v1/cycles/{cycle['id']}/samples",
        headers=headers,
        json={
            "method": "stratified",
            "size": 5,
            "strata_by": "team",
            "min_per_stratum": 1,
            "seed": 77,
            "dry_run": True,
        },
    )
    assert response.json()["strata"] == [{"value": "Team A", "frame_size": 60, "sample_size": 5}]


def test_impossible_minima_are_a_422_with_the_reason(client, headers):
    cycle = _cycle(client, headers)
    response = client.post(
        f"/api/v1/cycles/{cycle['id']}/samples",
        headers=headers,
        json={"method": "stratified", "size": 1, "strata_by": "case_type", "min_per_stratum": 2, "dry_run": True},
    )
    assert response.status_code == 422 and "more than the sample size of 1" in response.text


def test_samples_for_an_unknown_cycle_are_404(client, headers):
    response = client.post("/api/v1/cycles/999999/samples", headers=headers, json={"method": "random", "size": 2})
    assert response.status_code == 404


def test_sample_size_planning(client, headers):
    assert client.get("/api/v1/sample-size", params={"population": 312}, headers=headers).json() == {"n": 74}
    response = client.get("/api/v1/sample-size", params={"population": 312, "margin": 0}, headers=headers)
    assert response.status_code == 422
    response = client.get(
        "/api/v1/sample-size", params={"population": 4526, "confidence": 0.9999999999999999}, headers=headers
    )
    assert response.json() == {"n": 1247}


def test_only_the_qa_lead_runs_the_programme(client, db, headers):
    make_user(db, username="aud", roles=(Role.AUDITOR,))
    auditor = api_headers(client, "aud")
    assert client.get("/api/v1/cycles", headers=auditor).status_code == 403
    assert client.post("/api/v1/cycles", headers=auditor, json={}).status_code == 403


@pytest.mark.parametrize("dry_run", [0, 1, "yes", "false", None])
def test_dry_run_takes_only_true_or_false_so_a_preview_is_never_saved_by_mistake(client, db, headers, dry_run):
    cycle = _cycle(client, headers)
    response = client.post(
        f"/api/v1/cycles/{cycle['id']}/samples",
        headers=headers,
        json={"method": "random", "size": 5, "dry_run": dry_run},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "dry_run"
    assert db.execute(select(func.count()).select_from(Sample)).scalar_one() == 0


def test_a_due_date_given_as_a_number_is_refused(client, headers):
    response = client.post(
        "/api/v1/cycles",
        headers=headers,
        json={"title": "Dip", "kind": "dip_sample", "template_key": "dip_sample", "due_date": 0},
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "due_date"
