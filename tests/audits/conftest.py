"""Fixtures for the audit pages and API: the shipped templates published in the test's transaction, people and a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from app.accounts.models import User
from app.accounts.roles import Role, TrainingKind
from app.cases.models import Case
from tests.factories import add_training, make_case, make_team, make_user, publish_templates


@dataclass
class People:
    lead: User
    auditor: User
    other_auditor: User


@pytest.fixture
def templates(db):
    return publish_templates(db)


@pytest.fixture
def people(db) -> People:
    team = make_team(db)
    people = People(
        lead=make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead"),
        auditor=make_user(db, username="auditor", roles=(Role.AUDITOR,), team=team, full_name="Asha Auditor"),
        other_auditor=make_user(db, username="other", roles=(Role.AUDITOR,), team=team, full_name="Otto Other"),
    )
    # Asha is trained (an audit started by hand follows allocation's rules); Otto is not.
    add_training(db, people.auditor, TrainingKind.AUDITOR, date(2020, 1, 6))
    return people


@pytest.fixture
def case(db) -> Case:
    """A case whose facts make the register suggest answers: the assessment took too long, the child was seen alone."""
    return make_case(
        db,
        child_id="CHILD0001",
        referral_date=date(2026, 8, 3),
        assessment_authorised=date(2026, 11, 2),
        seen_alone=True,
        missing_12m=0,
        latest_review=date(2026, 10, 1),
    )
