"""Fixtures for moderation: people with and without moderator training, a cycle, and audits filled in and
submitted through the real services (so selection runs as it does for a user)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from app.accounts.models import Team, User
from app.accounts.roles import Role, TrainingKind
from app.audit_templates.answers import submission_errors
from app.audit_templates.schema import QuestionType
from app.audits import selectors as audit_selectors
from app.audits.models import Audit
from app.config import Settings
from app.escalations.models import Escalation
from app.flows import audits as audit_flows
from app.sampling.models import Cycle
from tests.conftest import TEST_NOW, TEST_SECRET_KEY
from tests.factories import (
    add_training,
    make_audit,
    make_case,
    make_team,
    make_user,
    publish_templates,
)

TODAY = TEST_NOW.date()  # the suite's clock (tests/conftest.py)
CURRENT = (TODAY - timedelta(days=30), TODAY + timedelta(days=700))
# Submission's settings unless a test says otherwise: the cycle's moderation rate is never raised for a new auditor
# (tests/moderation/test_raised_rate.py submits with the defaults, which raise it).
SETTLED = Settings(environment="test", secret_key=TEST_SECRET_KEY, moderation_new_auditor_audits=0)


@dataclass
class ModWorld:
    lead: User
    auditor: User
    mona: User  # a trained moderator in another team
    max: User  # a second trained moderator in another team
    north: Team  # the auditor's team, and the team of the cases
    south: Team
    cycle: Cycle


def complete_answers(
    definition: Any, *, overall: str = "good", section: str = "good", sections: dict[str, str] | None = None
) -> dict[str, Any]:
    """Answers that submit: every required visible question filled, grades as asked, no safeguarding concern."""
    answers: dict[str, Any] = {}
    safeguarding = definition.safeguarding_question
    if safeguarding is not None:
        answers[safeguarding.key] = "no"
    for _ in range(20):
        errors = submission_errors(definition, answers)
        if not errors:
            break
        for key in errors:
            question = definition.question(key)
            kind = question.type
            if kind is QuestionType.YES_NO_NA:
                answers[key] = "yes"
            elif kind is QuestionType.GRADE:
                answers[key] = section
            elif kind is QuestionType.SINGLE_CHOICE:
                answers[key] = question.option_values[0]
            elif kind is QuestionType.MULTI_CHOICE:
                answers[key] = [question.option_values[0]]
            elif kind is QuestionType.DATE:
                answers[key] = "2026-01-05"
            elif kind is QuestionType.NUMBER:
                answers[key] = 1
            else:
                answers[key] = f"Evidence for {key}"
    assert not submission_errors(definition, answers)
    for s in definition.judgement_sections:
        if s.grade_key in answers:
            answers[s.grade_key] = (sections or {}).get(s.key, section)
    if definition.overall is not None:
        answers[definition.overall.grade_question] = overall
    return answers


def new_audit(
    db,
    w: ModWorld,
    *,
    template_key: str = "case_file_audit",
    cycle: Cycle | None = None,
    in_cycle: bool = True,
    **case_fields: Any,
) -> Audit:
    case_fields.setdefault("team", w.north)
    audit = make_audit(
        db, case=make_case(db, **case_fields), auditor=w.auditor, actor=w.lead, template_key=template_key
    )
    if in_cycle:
        audit.cycle_id = (cycle or w.cycle).id
        db.add(audit)
        db.flush()
    return audit


def fill(db, audit: Audit, actor: User, **grades: Any) -> Audit:
    _, definition = audit_selectors.audit_template(db, audit)
    answers = complete_answers(definition, **grades)
    audit_flows.audit_answers_save(db, audit=audit, version=audit.version, answers=answers, actor=actor)
    return audit


def submit(db, audit: Audit, actor: User, *, settings: Settings = SETTLED, **grades: Any) -> Audit:
    """Fill in and submit as the auditor: moderation selection runs as part of the submission."""
    fill(db, audit, actor, **grades)
    audit_flows.audit_submit(db, audit=audit, version=audit.version, actor=actor, settings=settings)
    return audit


def escalate(db, audit: Audit, w: ModWorld) -> Escalation:
    row = Escalation(
        audit_id=audit.id,
        case_id=audit.case_id,
        raised_by_id=w.auditor.id,
        recipient_id=w.lead.id,
        description="Child at risk tonight",
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def mw(db) -> ModWorld:
    publish_templates(db)
    north, south, east = make_team(db, name="North Team"), make_team(db, name="South Team"), make_team(db, name="East")
    lead = make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead")
    auditor = make_user(db, username="asha", roles=(Role.AUDITOR,), team=north, full_name="Asha Auditor")
    mona = make_user(db, username="mona", roles=(Role.MODERATOR,), team=south, full_name="Mona Moderator")
    maxi = make_user(db, username="max", roles=(Role.MODERATOR, Role.AUDITOR), team=east, full_name="Max Marsh")
    for person in (mona, maxi):
        add_training(db, person, TrainingKind.MODERATOR, *CURRENT)
    cycle = Cycle(
        title="Winter deep dive",
        kind="deep_dive",
        template_key="case_file_audit",
        template_version=1,
        due_date=TODAY + timedelta(days=30),
        moderation_rate=0.0,
        blind_moderation=True,
    )
    db.add(cycle)
    db.flush()
    return ModWorld(lead=lead, auditor=auditor, mona=mona, max=maxi, north=north, south=south, cycle=cycle)
