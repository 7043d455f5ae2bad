"""Allocating a stored sample: trained auditors only, no conflicts, balanced, audits created on the pinned version."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.roles import Role, TrainingKind
from app.audit_templates.service import templates_publish
from app.audits import selectors as audit_selectors
from app.date_rules import DueDateRules
from app.errors import Conflict, ValidationFailed
from app.flows import allocation as allocation_flow
from app.sampling import service
from app.sampling.allocation import service as allocation
from app.sampling.schemas import CycleCreate, SampleSpec
from app.working_days import calendar_for
from tests.factories import add_training, api_headers, make_case, make_team, make_user

TODAY = date(2026, 11, 26)
CALENDAR = calendar_for("england_and_wales")
DATES = DueDateRules(today=TODAY, horizon_years=3)


@pytest.fixture
def world(db):
    templates_publish(db)
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,))
    one, two = make_team(db, name="Team One"), make_team(db, name="Team Two")
    auditors = {
        "ana": make_user(db, username="ana", full_name="Ana Able", roles=(Role.AUDITOR,), team=one),
        "ben": make_user(db, username="ben", full_name="Ben Bright", roles=(Role.AUDITOR,), team=two),
        "cat": make_user(db, username="cat", full_name="Cat Cole", roles=(Role.AUDITOR,)),
        "old": make_user(db, username="old", full_name="Olu Old", roles=(Role.AUDITOR,)),
    }
    for name in ("ana", "ben", "cat"):
        add_training(db, auditors[name], TrainingKind.AUDITOR, date(2026, 1, 1), date(2028, 1, 1))
    add_training(db, auditors["old"], TrainingKind.AUDITOR, date(2023, 1, 1), date(2026, 3, 3))
    for i in range(12):
        make_case(
            db, child_id=f"AL{i:03d}", team=one if i % 2 else two, worker_name="cat  cole" if i == 0 else "Someone Else"
        )
    cycle = service.cycle_create(
        db,
        data=CycleCreate(title="Dip", kind="dip_sample", template_key="dip_sample", due_date=date(2026, 12, 31)),
        actor=lead,
        dates=DATES,
    )
    sample = service.sample_create(
        db, cycle=cycle, spec=SampleSpec(method="random", size=12, seed=3), today=TODAY, actor=lead
    )
    return {"lead": lead, "auditors": auditors, "cycle": cycle, "sample": sample, "teams": (one, two)}


def test_the_proposal_avoids_conflicts_balances_and_leaves_out_expired_training(db, world):
    proposal = allocation.allocation_propose(db, sample=world["sample"], today=TODAY)
    auditors, (one, two) = world["auditors"], world["teams"]
    assert len(proposal.assignments) == 12 and proposal.unallocated == {}
    assert auditors["old"].id not in proposal.assignments.values()
    counts = sorted(
        list(proposal.assignments.values()).count(a.id) for a in (auditors["ana"], auditors["ben"], auditors["cat"])
    )
    assert counts == [4, 4, 4]
    cases = {c.id: c for c in allocation.sample_cases_info(db, sample=world["sample"])}
    for case_id, auditor_id in proposal.assignments.items():
        assert not (auditor_id == auditors["ana"].id and cases[case_id].team_id == one.id)
        assert not (auditor_id == auditors["ben"].id and cases[case_id].team_id == two.id)
        assert not (auditor_id == auditors["cat"].id and cases[case_id].child_id == "AL000")  # her own case


def test_confirming_creates_the_audits_in_the_cycle_with_due_dates(db, world):
    proposal = allocation.allocation_propose(db, sample=world["sample"], today=TODAY)
    audits = allocation_flow.allocation_confirm(
        db,
        sample=world["sample"],
        assignments=proposal.assignments,
        due_date=date(2026, 12, 20),
        actor=world["lead"],
        today=TODAY,
        calendar=CALENDAR,
        dates=DATES,
    )
    assert len(audits) == 12
    assert {(a.cycle_id, a.sample_id, a.template_version, a.due_date) for a in audits} == {
        (world["cycle"].id, world["sample"].id, 2, date(2026, 12, 20))
    }
    mine = audit_selectors.audits_page(db, user=world["auditors"]["ana"])
    assert mine.total == 4
    db.refresh(world["cycle"])
    assert world["cycle"].status == "in_progress"
    with pytest.raises(Conflict, match="already been allocated"):
        allocation_flow.allocation_confirm(
            db,
            sample=world["sample"],
            assignments=proposal.assignments,
            due_date=None,
            actor=world["lead"],
            today=TODAY,
            calendar=CALENDAR,
            dates=DATES,
        )


def test_a_changed_allocation_is_checked_again(db, world):
    proposal = allocation.allocation_propose(db, sample=world["sample"], today=TODAY)
    cases = {c.child_id: c.id for c in allocation.sample_cases_info(db, sample=world["sample"])}
    edited = {**proposal.assignments, cases["AL000"]: world["auditors"]["cat"].id}
    with pytest.raises(ValidationFailed) as refused:
        allocation_flow.allocation_confirm(
            db,
            sample=world["sample"],
            assignments=edited,
            due_date=None,
            actor=world["lead"],
            today=TODAY,
            calendar=CALENDAR,
            dates=DATES,
        )
    assert refused.value.errors == {
        f"case_{cases['AL000']}": "Child AL000: Cat Cole cannot audit this case (is the allocated worker)"
    }
    edited = {**proposal.assignments, cases["AL001"]: world["auditors"]["old"].id}
    with pytest.raises(ValidationFailed, match="auditor training expired on 3 Mar 2026"):
        allocation_flow.allocation_confirm(
            db,
            sample=world["sample"],
            assignments=edited,
            due_date=None,
            actor=world["lead"],
            today=TODAY,
            calendar=CALENDAR,
            dates=DATES,
        )


def test_a_case_no_one_may_audit_is_explained(db, world):
    only_cat = allocation.allocation_propose(
        db, sample=world["sample"], today=TODAY, auditor_ids=[world["auditors"]["cat"].id]
    )
    _case_id, reason = next(iter(only_cat.unallocated.items()))
    assert reason.startswith("Child AL000:") and "allocated worker" in reason


def test_the_api_allocates_the_proposal(client, db, world):
    headers = api_headers(client, "lead")
    response = client.post(
        f"/api/v1/samples/{world['sample'].id}/allocate", headers=headers, json={"due_date": "2026-12-24"}
    )
    assert response.status_code == 200, response.text
    audits = response.json()["audits"]
    assert len(audits) == 12 and {a["due_date"] for a in audits} == {"2026-12-24"}
    again = client.post(f"/api/v1/samples/{world['sample'].id}/allocate", headers=headers, json={})
    assert again.status_code == 409
    unknown = client.post("/api/v1/samples/999999/allocate", headers=headers, json={})
    assert unknown.status_code == 404
