"""The audit service: start on an exact template version with the register's suggestions, save as answers are
given (stale saves refused), submit only when every required visible answer is there."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.audit_templates import selectors as template_selectors
from app.audit_templates.service import templates_publish
from app.audit_trail.models import AuditEvent
from app.audits import selectors, service
from app.audits.models import AuditAnswer
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.flows import audits as audit_flows
from app.working_days import calendar_for
from tests.factories import make_case, make_user

TODAY = date(2026, 11, 26)
CALENDAR = calendar_for("england_and_wales")


@pytest.fixture
def published(db):
    templates_publish(db)


@pytest.fixture
def people(db):
    return (make_user(db, username="lead", roles=(Role.QA_LEAD,)), make_user(db, username="aud", roles=(Role.AUDITOR,)))


def _start(db, people, key="dip_sample", **case_fields):
    lead, auditor = people
    case = make_case(db, **case_fields)
    template = template_selectors.template_latest(db, key=key)
    return service.audit_start(
        db, case=case, template=template, auditor=auditor, actor=lead, today=TODAY, calendar=CALENDAR
    )


def _all_dip_sample_answers() -> dict[str, str]:
    keys = [
        "chronology_up_to_date",
        "assessment_within_45_days",
        "oversight_last_month",
        "supervision_within_6_weeks",
        "child_voice_recorded",
        "plan_reviewed_on_time",
        "seen_alone_last_visit",
        "child_missing_12m",
        "immediate_safeguarding_concern",
    ]
    answers = dict.fromkeys(keys, "yes")
    answers.update(child_missing_12m="no", immediate_safeguarding_concern="no")
    return answers


def test_an_audit_starts_on_the_latest_version_with_suggestions_from_the_register(db, people, published):
    audit = _start(db, people, referral_date=date(2026, 3, 2), assessment_authorised=date(2026, 5, 8), seen_alone=True)
    assert (audit.template_key, audit.template_version, audit.status, audit.version) == (
        "dip_sample",
        2,
        "allocated",
        1,
    )
    rows = selectors.audit_answer_rows(db, audit=audit)
    late = rows["assessment_within_45_days"]
    assert late.value is None and late.prefill_value == "no"
    assert "46 working days after referral" in late.prefill_explanation
    assert rows["seen_alone_last_visit"].prefill_value == "yes"
    assert selectors.audit_answers(db, audit=audit) == {}  # a suggestion is not an answer until confirmed
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "audit.start")).scalars().one()


def test_answers_are_saved_partially_and_the_version_moves_on(db, people, published):
    _, auditor = people
    audit = _start(db, people)
    audit_flows.audit_answers_save(db, audit=audit, version=1, answers={"chronology_up_to_date": "yes"}, actor=auditor)
    assert (audit.version, audit.status) == (2, "in_progress")
    audit_flows.audit_answers_save(db, audit=audit, version=2, answers={"comments": "  Good file  "}, actor=auditor)
    assert selectors.audit_answers(db, audit=audit) == {"chronology_up_to_date": "yes", "comments": "Good file"}
    audit_flows.audit_answers_save(db, audit=audit, version=3, answers={"comments": ""}, actor=auditor)
    assert "comments" not in selectors.audit_answers(db, audit=audit)


def test_confirming_a_suggestion_keeps_both(db, people, published):
    _, auditor = people
    audit = _start(db, people, seen_alone=False)
    audit_flows.audit_answers_save(db, audit=audit, version=1, answers={"seen_alone_last_visit": "yes"}, actor=auditor)
    row = selectors.audit_answer_rows(db, audit=audit)["seen_alone_last_visit"]
    assert (row.value, row.prefill_value, row.updated_by_id) == ("yes", "no", auditor.id)


def test_a_stale_save_is_refused_and_overwrites_nothing(db, people, published):
    _, auditor = people
    audit = _start(db, people)
    audit_flows.audit_answers_save(db, audit=audit, version=1, answers={"chronology_up_to_date": "yes"}, actor=auditor)
    with pytest.raises(Conflict, match="also changed by someone else"):
        audit_flows.audit_answers_save(
            db, audit=audit, version=1, answers={"chronology_up_to_date": "no"}, actor=auditor
        )
    assert selectors.audit_answers(db, audit=audit)["chronology_up_to_date"] == "yes" and audit.version == 2


def test_an_invalid_value_names_the_question_and_saves_nothing(db, people, published):
    _, auditor = people
    audit = _start(db, people)
    with pytest.raises(ValidationFailed) as refused:
        audit_flows.audit_answers_save(
            db,
            audit=audit,
            version=1,
            answers={"chronology_up_to_date": "yes", "child_voice_recorded": "perhaps", "no_such_question": "yes"},
            actor=auditor,
        )
    assert set(refused.value.errors) == {"child_voice_recorded", "no_such_question"}
    assert "child's wishes and feelings" in refused.value.errors["child_voice_recorded"]
    assert selectors.audit_answers(db, audit=audit) == {} and audit.version == 1


def test_only_the_allocated_auditor_changes_answers(db, people, published):
    lead, _ = people
    audit = _start(db, people)
    with pytest.raises(PermissionDenied):
        audit_flows.audit_answers_save(db, audit=audit, version=1, answers={"chronology_up_to_date": "yes"}, actor=lead)


def test_submit_lists_every_missing_answer_and_ignores_hidden_questions(db, people, published):
    _, auditor = people
    audit = _start(db, people)
    audit_flows.audit_answers_save(db, audit=audit, version=1, answers={"chronology_up_to_date": "no"}, actor=auditor)
    with pytest.raises(ValidationFailed) as refused:
        audit_flows.audit_submit(db, audit=audit, version=2, actor=auditor)
    errors = refused.value.errors
    assert "chronology_up_to_date__explanation" in errors  # No needs an explanation
    assert "assessment_within_45_days" in errors and "return_interview_within_72_hours" not in errors
    answers = {**_all_dip_sample_answers(), "chronology_up_to_date__explanation": "Last updated in March"}
    audit_flows.audit_answers_save(db, audit=audit, version=2, answers=answers, actor=auditor)
    submitted = audit_flows.audit_submit(db, audit=audit, version=3, actor=auditor)
    assert submitted.status == "completed" and submitted.submitted_at is not None  # not picked for moderation
    with pytest.raises(Conflict, match="completed"):
        audit_flows.audit_answers_save(
            db, audit=audit, version=submitted.version, answers={"comments": "late"}, actor=auditor
        )


def test_a_conditional_question_becomes_required_when_shown(db, people, published):
    _, auditor = people
    audit = _start(db, people)
    audit_flows.audit_answers_save(
        db, audit=audit, version=1, answers={**_all_dip_sample_answers(), "child_missing_12m": "yes"}, actor=auditor
    )
    with pytest.raises(ValidationFailed) as refused:
        audit_flows.audit_submit(db, audit=audit, version=2, actor=auditor)
    # both return home interview questions: offered, and (version 2) completed, within 72 hours
    assert list(refused.value.errors) == ["return_interview_within_72_hours", "return_interview_completed_72_hours"]


def test_an_audit_keeps_its_version_after_a_new_one_is_published(db, people, published, tmp_path):
    audit = _start(db, people)
    directory = tmp_path / "templates"
    directory.mkdir()
    source = template_selectors.template_latest(db, key="dip_sample")
    from app.audit_templates.service import TEMPLATES_DIR

    for path in TEMPLATES_DIR.glob("*.yaml"):
        (directory / path.name).write_text(path.read_text())
    assert source is not None
    n = source.version
    text = (TEMPLATES_DIR / f"dip_sample.v{n}.yaml").read_text().replace(f"version: {n}", f"version: {n + 1}", 1)
    (directory / f"dip_sample.v{n + 1}.yaml").write_text(text)
    templates_publish(db, directory=directory)
    db.refresh(audit)
    version, definition = selectors.audit_template(db, audit)
    assert (audit.template_version, version.id, definition.version) == (n, source.id, n)
    newer = _start(db, people)
    assert newer.template_version == n + 1


def test_answers_go_with_the_audit(db, people, published):
    _, auditor = people
    audit = _start(db, people, seen_alone=True)
    audit_flows.audit_answers_save(db, audit=audit, version=1, answers={"chronology_up_to_date": "yes"}, actor=auditor)
    assert db.execute(select(AuditAnswer).where(AuditAnswer.audit_id == audit.id)).scalars().all()
