"""Fixtures for safeguarding escalations: a QA lead, an auditor, the case's team manager and a dip sample audit; their
email addresses; a real SMTP server and the sessions a job opens (from tests/notifications)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.accounts.models import Team, User
from app.accounts.roles import Role
from app.cases.models import Case
from tests.factories import (
    make_audit,
    make_case,
    make_team,
    make_user,
    publish_templates,
)
from tests.test_mail import smtp_server  # noqa: F401  (the fixture: a real SMTP server for the test)


@dataclass
class People:
    lead: User
    auditor: User
    manager: User  # the case's team manager (the account set as the manager of the case's team)
    other: User  # a practitioner in the case's area with nothing to do with the case
    hos: User  # the head of service of the case's area: someone the auditor may choose instead
    team: Team  # the case's team, in Safeguarding


@pytest.fixture
def people(db) -> People:
    team = make_team(db, name="Safeguarding Team 1", service_area="Safeguarding")
    hos = make_user(db, username="hos", roles=(Role.HEAD_OF_SERVICE,), full_name="Hana Head")
    hos.service_area_id = team.service_area_id
    db.add(hos)
    db.flush()
    return People(
        lead=make_user(db, username="lead", roles=(Role.QA_LEAD,), full_name="Quinn Lead"),
        auditor=make_user(db, username="auditor", roles=(Role.AUDITOR,), full_name="Asha Auditor"),
        manager=make_user(db, username="manager", roles=(Role.PRACTITIONER,), team=team, full_name="Maya Manager"),
        other=make_user(db, username="other", roles=(Role.PRACTITIONER,), team=team, full_name="Otto Other"),
        hos=hos,
        team=team,
    )


@pytest.fixture
def case(db, people) -> Case:
    # The register's spelling of the manager's name does not matter: the team's manager is who is told.
    return make_case(
        db,
        child_id="CHILD0042",
        team=people.team,
        manager=people.manager,
        manager_name="maya\u00a0 MANAGER",
        worker_name="Wes Worker",
    )


@pytest.fixture
def audit(db, people, case):
    publish_templates(db)
    return make_audit(db, case=case, auditor=people.auditor, actor=people.lead)


@pytest.fixture
def with_emails(db, people) -> People:
    """Everyone but the auditor has an email address."""
    for user in (people.lead, people.manager, people.other, people.hos):
        user.email = f"{user.username}@council.example"
        db.add(user)
    db.flush()
    return people
