"""Who may see and acknowledge a safeguarding escalation (`app.escalations.permissions`), and the escalation's page
answering exactly them through `ReadableEscalation`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.accounts.roles import Role
from app.escalations import permissions
from app.escalations.models import Escalation
from tests.factories import csrf_token, login, make_user


def _person(user_id, *roles, active=True):
    return SimpleNamespace(id=user_id, active=active, has_role=lambda *wanted: bool(set(roles) & set(wanted)))


ESCALATION = Escalation(id=5, audit_id=1, case_id=2, raised_by_id=3, recipient_id=4, description="Concern")


@pytest.mark.parametrize(
    "person, allowed",
    [
        (_person(4, Role.PRACTITIONER), True),  # the recipient, whatever their role
        (_person(9, Role.QA_LEAD), True),
        (_person(3, Role.AUDITOR), False),  # the auditor who raised it hands it on
        (_person(8, Role.HEAD_OF_SERVICE, Role.MODERATOR, Role.TEAM_MANAGER), False),
        (_person(None, Role.PRACTITIONER), False),
        (_person(4, Role.PRACTITIONER, active=False), False),
        (_person(9, Role.QA_LEAD, active=False), False),
    ],
)
def test_the_recipient_and_the_qa_lead_only(person, allowed):
    assert permissions.may_read_escalation(person, ESCALATION) is allowed
    assert permissions.may_acknowledge_escalation(person, ESCALATION) is allowed


def test_someone_a_chase_step_told_may_read_and_acknowledge_it():
    head = _person(8, Role.HEAD_OF_SERVICE)
    assert not permissions.may_read_escalation(head, ESCALATION)
    assert permissions.may_read_escalation(head, ESCALATION, chased={8, 11})
    assert permissions.may_acknowledge_escalation(head, ESCALATION, chased={8})
    assert not permissions.may_read_escalation(_person(8, Role.HEAD_OF_SERVICE, active=False), ESCALATION, chased={8})
    assert not permissions.may_read_escalation(_person(7, Role.HEAD_OF_SERVICE), ESCALATION, chased={8})


def test_only_the_qa_lead_lists_them_all():
    assert permissions.may_list_escalations(_person(9, Role.QA_LEAD))
    assert not permissions.may_list_escalations(_person(4, *[r for r in Role if r != Role.QA_LEAD]))


def test_the_page_answers_the_rule(client, db, people, audit):
    escalation = Escalation(
        audit_id=audit.id,
        case_id=audit.case_id,
        raised_by_id=people.auditor.id,
        recipient_id=people.manager.id,
        description="Concern",
    )
    db.add(escalation)
    db.flush()
    make_user(db, username="hos2", roles=(Role.HEAD_OF_SERVICE,))
    for username, status in (("manager", 200), ("lead", 200), ("auditor", 404), ("other", 404), ("hos2", 404)):
        login(client, username)
        assert client.get(f"/escalations/{escalation.id}").status_code == status, username
    login(client, "other")
    refused = client.post(
        f"/escalations/{escalation.id}/acknowledge", data={"csrf_token": csrf_token(client)}, follow_redirects=False
    )
    assert refused.status_code == 404
    db.refresh(escalation)
    assert escalation.acknowledged_at is None
    # Unknown and out-of-range numbers: not found or bad input, never a 500.
    login(client, "lead")
    assert client.get("/escalations/999999").status_code == 404
    assert client.get("/escalations/99999999999").status_code in (400, 404)
