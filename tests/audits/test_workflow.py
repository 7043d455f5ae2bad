"""The audit's states: every legal move and every illegal one, optimistic locking, and the QA lead's
reallocation and due-date changes (each with a reason, each in the audit trail)."""

from __future__ import annotations

import html
import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.accounts.roles import Role, TrainingKind
from app.audit_trail.models import AuditEvent
from app.audits.models import AuditDueChange
from app.audits.workflow import states as workflow
from app.audits.workflow.moves import audit_move
from app.audits.workflow.service import audit_due_date_change
from app.date_rules import DueDateRules
from app.errors import Conflict, ValidationFailed
from app.flows.allocation import audit_reallocate
from tests.factories import add_training, login, make_audit, make_user, post_form
from tests.factories import page_text as _page_text

TODAY = date(2026, 11, 26)
DATES = DueDateRules(today=TODAY, horizon_years=3)


def page_text(markup: str) -> str:
    return html.unescape(_page_text(markup))


@pytest.fixture
def audit(db, templates, people, case):
    return make_audit(db, case=case, auditor=people.auditor, actor=people.lead)


@pytest.fixture
def trained(db, people):
    """Otto (same team as the case? no: the case has no team) with current auditor training."""
    add_training(
        db, people.other_auditor, TrainingKind.AUDITOR, TODAY - timedelta(days=10), TODAY + timedelta(days=300)
    )
    return people.other_auditor


# --- The table of moves ----------------------------------------------------------------------

LEGAL = {
    ("allocated", "in_progress"),
    ("in_progress", "submitted"),
    ("submitted", "in_moderation"),
    ("submitted", "completed"),
    ("completed", "in_moderation"),
    ("in_moderation", "completed"),
    ("in_moderation", "returned"),
    ("returned", "in_progress"),
}


@pytest.mark.parametrize(("current", "to"), list(itertools.product(workflow.STATES, repeat=2)))
def test_every_move_is_either_legal_or_refused_with_both_states_named(current, to):
    if (current, to) in LEGAL:
        assert workflow.check_move(current, to)
    else:
        with pytest.raises(Conflict) as refused:
            workflow.check_move(current, to)
        message = refused.value.message
        assert workflow.LABELS[current] in message and workflow.LABELS[to] in message


def test_moves_change_the_status_bump_the_version_and_are_recorded(db, audit, people):
    version = audit.version
    audit_move(db, audit=audit, to="in_progress", version=version, actor=people.auditor, summary="Began")
    assert (audit.status, audit.version) == ("in_progress", version + 1)
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "audit.begin")).scalar_one()
    assert event.before == {"status": "allocated"} and event.after["status"] == "in_progress"
    assert event.actor_id == people.auditor.id


def test_a_stale_version_moves_nothing(db, audit, people):
    with pytest.raises(Conflict, match="changed since you opened it"):
        audit_move(db, audit=audit, to="in_progress", version=audit.version - 1, actor=people.auditor, summary="x")
    db.refresh(audit)
    assert audit.status == "allocated"


def test_an_illegal_move_is_refused_before_anything_changes(db, audit, people):
    with pytest.raises(Conflict, match="not started cannot become completed"):
        audit_move(db, audit=audit, to="completed", version=audit.version, actor=people.lead, summary="x")
    db.refresh(audit)
    assert (audit.status, audit.version) == ("allocated", 1)


def test_only_the_allocated_auditor_may_save_answers_over_http(client, db, audit, people):
    login(client, "other")
    response = post_form(
        client,
        f"/audits/{audit.id}/sections/compliance",
        {"chronology_up_to_date": "yes", "_shown": ["chronology_up_to_date"], "_version": str(audit.version)},
    )
    assert response.status_code in (403, 404)
    db.refresh(audit)
    assert audit.status == "allocated"


# --- Reallocation ----------------------------------------------------------------------------


def test_reallocating_needs_a_reason_and_a_trained_auditor_without_a_conflict(db, audit, people, trained):
    with pytest.raises(ValidationFailed) as refused:
        audit_reallocate(
            db, audit=audit, auditor_id=None, reason=" ", version=audit.version, actor=people.lead, today=TODAY
        )
    assert set(refused.value.errors) == {"auditor_id", "reason"}
    untrained = make_user(db, username="nina", roles=(Role.AUDITOR,), full_name="Nina New")
    with pytest.raises(ValidationFailed) as refused:
        audit_reallocate(
            db,
            audit=audit,
            auditor_id=untrained.id,
            reason="Leave",
            version=audit.version,
            actor=people.lead,
            today=TODAY,
        )
    assert "Nina New cannot audit this case" in refused.value.errors["auditor_id"]
    audit_reallocate(
        db,
        audit=audit,
        auditor_id=trained.id,
        reason="Asha is on leave",
        version=audit.version,
        actor=people.lead,
        today=TODAY,
    )
    assert audit.auditor_id == trained.id
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "audit.reallocate")).scalar_one()
    assert event.before == {"auditor_id": people.auditor.id}
    assert event.after == {"auditor_id": trained.id, "reason": "Asha is on leave"}


def test_the_case_worker_may_not_be_given_the_audit(db, audit, people, trained, case):
    case.worker_name = "Otto  OTHER"  # the extract's spacing and case
    db.add(case)
    db.flush()
    with pytest.raises(ValidationFailed) as refused:
        audit_reallocate(
            db,
            audit=audit,
            auditor_id=trained.id,
            reason="Leave",
            version=audit.version,
            actor=people.lead,
            today=TODAY,
        )
    assert "allocated worker" in refused.value.errors["auditor_id"]


def test_a_submitted_audit_cannot_be_reallocated(db, audit, people, trained):
    audit_move(db, audit=audit, to="in_progress", version=audit.version, actor=people.auditor, summary="x")
    audit_move(db, audit=audit, to="submitted", version=audit.version, actor=people.auditor, summary="x")
    with pytest.raises(Conflict, match="submitted, so it can no longer be reallocated"):
        audit_reallocate(
            db,
            audit=audit,
            auditor_id=trained.id,
            reason="Leave",
            version=audit.version,
            actor=people.lead,
            today=TODAY,
        )


def test_reallocation_page_offers_only_eligible_auditors_and_reports_a_stale_form(client, db, audit, people, trained):
    login(client, "lead")
    page = client.get(f"/audits/{audit.id}/reallocate")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Otto Other" in text and "Trained, no conflict of interest" in text
    empty = post_form(client, f"/audits/{audit.id}/reallocate", {"version": str(audit.version), "reason": ""})
    assert empty.status_code == 400
    assert "Select the auditor to give this audit to" in page_text(empty.text)
    assert "Give the reason for reallocating this audit" in page_text(empty.text)
    stale = post_form(
        client,
        f"/audits/{audit.id}/reallocate",
        {"version": str(audit.version + 5), "auditor_id": str(trained.id), "reason": "Leave"},
    )
    assert stale.status_code == 409 and "changed since you opened it" in page_text(stale.text)
    done = post_form(
        client,
        f"/audits/{audit.id}/reallocate",
        {"version": str(audit.version), "auditor_id": str(trained.id), "reason": "Leave"},
    )
    assert done.status_code == 303
    assert "Audit reallocated to Otto Other" in page_text(client.get(done.headers["location"]).text)


# --- Due dates -------------------------------------------------------------------------------


def test_a_due_date_change_needs_a_reason_and_keeps_its_history(db, audit, people):
    with pytest.raises(ValidationFailed) as refused:
        audit_due_date_change(
            db, audit=audit, new_due=None, reason="", version=audit.version, actor=people.lead, dates=DATES
        )
    assert set(refused.value.errors) == {"due_date", "reason"}
    first = date(2026, 12, 10)
    audit_due_date_change(
        db, audit=audit, new_due=first, reason="Court hearing", version=audit.version, actor=people.lead, dates=DATES
    )
    audit_due_date_change(
        db,
        audit=audit,
        new_due=date(2026, 12, 20),
        reason="Leave",
        version=audit.version,
        actor=people.lead,
        dates=DATES,
    )
    history = db.execute(select(AuditDueChange).order_by(AuditDueChange.id)).scalars().all()
    assert [(h.old_due_date, h.new_due_date, h.reason) for h in history] == [
        (None, first, "Court hearing"),
        (first, date(2026, 12, 20), "Leave"),
    ]
    assert audit.due_date == date(2026, 12, 20)
    with pytest.raises(ValidationFailed, match="already due"):
        audit_due_date_change(
            db,
            audit=audit,
            new_due=date(2026, 12, 20),
            reason="x",
            version=audit.version,
            actor=people.lead,
            dates=DATES,
        )


def test_due_date_page_validates_and_shows_the_history(client, db, audit, people):
    login(client, "lead")
    url = f"/audits/{audit.id}/due-date"
    bad = post_form(
        client,
        url,
        {
            "version": str(audit.version),
            "due_date-day": "31",
            "due_date-month": "2",
            "due_date-year": "2027",
            "reason": "Leave",
        },
    )
    assert bad.status_code == 400 and "must be a real date" in page_text(bad.text)
    assert 'value="31"' in bad.text  # what was typed is kept
    ok = post_form(
        client,
        url,
        {
            "version": str(audit.version),
            "due_date-day": "5",
            "due_date-month": "1",
            "due_date-year": "2027",
            "reason": "Extended for the Christmas closure",
        },
    )
    assert ok.status_code == 303
    text = page_text(client.get(url).text)
    assert "Extended for the Christmas closure" in text and "5 January 2027" in text


@pytest.mark.parametrize("path", ["reallocate", "due-date"])
def test_only_the_qa_lead_manages_an_audit(client, audit, people, path):
    login(client, "auditor")
    assert client.get(f"/audits/{audit.id}/{path}").status_code == 403
    login(client, "lead")
    assert client.get(f"/audits/{audit.id + 1000}/{path}").status_code == 404
