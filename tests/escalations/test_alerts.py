"""Safeguarding alerts that reach people: raising an escalation emails (through the outbox and a real SMTP server)
and notifies its recipient and every active QA lead at once, with the child's ID and a link and nothing else; not
acknowledged, it is chased up the ladder (the recipient, the head of service, the QA leads) as working hours pass,
each step once, in the trail and on its page; a head of service it reaches may then see it, and no one else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.roles import Role
from app.escalations.chase import escalations_chase
from app.escalations.models import EscalationChase
from app.notifications import outbox
from app.notifications.models import EmailOutbox, Notification
from tests.escalations.test_escalations import (
    CONCERN,
    escalations,
    events,
    page_text,
    raise_by_api,
)
from tests.factories import api_headers, login, make_team, make_user, post_form
from tests.test_cli import cli_db  # noqa: F401  (the CLI test's own empty database)

FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # one working hour before the weekend (GMT: UTC is local)
MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def at(hour: int, minute: int = 0, *, day: datetime = MONDAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def outbox_rows(db) -> list[EmailOutbox]:
    db.expire_all()
    return list(db.execute(select(EmailOutbox).order_by(EmailOutbox.id)).scalars())


def notifications_of(db, user) -> list[Notification]:
    db.expire_all()
    return list(db.execute(select(Notification).where(Notification.user_id == user.id)).scalars())


def received_by(smtp_server) -> dict[str, list]:
    found: dict[str, list] = {}
    for received in smtp_server.received:
        found.setdefault(received.recipients[0], []).append(received)
    return found


@pytest.fixture
def second_lead(db, with_emails):
    lead = make_user(db, username="lead2", roles=(Role.QA_LEAD,), full_name="Lou Lead")
    lead.email = "lead2@council.example"
    retired = make_user(db, username="retired", roles=(Role.QA_LEAD,), full_name="Rita Retired", active=False)
    retired.email = "retired@council.example"
    db.add_all([lead, retired])
    db.flush()
    return lead


# --- Raising ---------------------------------------------------------------------------------------------------


def test_raising_emails_and_notifies_the_recipient_and_every_active_qa_lead_with_only_the_child_id_and_a_link(
    client, db, with_emails, second_lead, audit, job_sessions, smtp_server, database_url
):
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    # Queued in the transaction that raised it, for the recipient and the active QA leads (not the auditor).
    rows = outbox_rows(db)
    assert {row.to_user_id for row in rows} == {with_emails.manager.id, with_emails.lead.id, second_lead.id}
    assert {row.kind for row in rows} == {"escalation_raised"} and all(row.sent_at is None for row in rows)
    for person in (with_emails.manager, with_emails.lead, second_lead):
        (notification,) = notifications_of(db, person)
        assert notification.escalation_id == escalation.id and notification.read_at is None
        assert (
            notification.message == "Safeguarding escalation for child CHILD0042: raised, waiting for acknowledgement."
        )

    report = outbox.outbox_deliver(job_sessions, settings=smtp_server.settings(database_url))
    assert report.sent == 3 and report.failed == 0
    mails = received_by(smtp_server)
    assert set(mails) == {"manager@council.example", "lead@council.example", "lead2@council.example"}
    link = f"http://127.0.0.1:8000/escalations/{escalation.id}"  # the app's BASE_URL and the escalation's page
    for (received,) in mails.values():
        assert received.message["Subject"] == "Immediate safeguarding concern for child CHILD0042"
        assert "child CHILD0042" in received.body and link in received.body.splitlines()
        # Nothing else about the child or the concern: no description, no names, not the worker's.
        for detail in (*CONCERN.replace(".", "").split("\n"), "Bruising", "Maya", "Manager", "Asha", "Wes"):
            assert detail not in received.body, detail
            assert detail not in received.message["Subject"]
    assert "named you as the person to tell" in mails["manager@council.example"][0].body
    assert "as a QA lead" in mails["lead@council.example"][0].body

    # Delivering again sends nothing twice.
    assert outbox.outbox_deliver(job_sessions, settings=smtp_server.settings(database_url)).sent == 0
    assert len(smtp_server.received) == 3


def test_the_recipients_notification_links_to_the_escalation(client, db, with_emails, audit):
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    login(client, "manager")
    page = client.get("/notifications")
    assert "Safeguarding escalation for child CHILD0042: raised, waiting for acknowledgement." in page_text(page.text)
    assert f'href="/escalations/{escalation.id}"' in page.text
    # Acknowledging it marks everyone's notification about it read.
    response = post_form(client, f"/escalations/{escalation.id}/acknowledge", {"outcome": "referral_made"})
    assert response.status_code == 303
    assert all(n.read_at is not None for n in db.execute(select(Notification)).scalars())


# --- The chase ladder ------------------------------------------------------------------------------------------


@pytest.fixture
def raised_friday(client, db, with_emails, audit, set_clock):
    set_clock(FRIDAY_4PM, running=False)
    raise_by_api(client, audit)
    (escalation,) = escalations(db, audit)
    assert escalation.created_at == FRIDAY_4PM
    return escalation


def steps(db, escalation) -> list[tuple[int, list[int]]]:
    db.expire_all()
    rows = db.execute(
        select(EscalationChase).where(EscalationChase.escalation_id == escalation.id).order_by(EscalationChase.step)
    ).scalars()
    return [(row.step, row.recipient_ids) for row in rows]


def test_the_ladder_chases_the_recipient_then_the_head_of_service_then_the_qa_leads_each_once(
    client, db, with_emails, raised_friday, job_sessions, smtp_server, database_url
):
    people, escalation = with_emails, raised_friday
    elsewhere = make_team(db, name="Children in Care 1", service_area="Children in Care")
    other_hos = make_user(db, username="hos2", roles=(Role.HEAD_OF_SERVICE,), full_name="Hugo Elsewhere")
    other_hos.service_area_id = elsewhere.service_area_id
    other_hos.email = "hos2@council.example"
    db.add(other_hos)
    db.flush()
    settings = smtp_server.settings(database_url, base_url="https://audit.example")

    def chase(when: datetime) -> int:
        return escalations_chase(job_sessions, settings=settings, now=when).sent

    assert chase(at(11, 59)) == 0 and steps(db, escalation) == []  # three working hours on Monday: not yet
    assert chase(at(12)) == 1  # Friday 16:00-17:00 and Monday 09:00-12:00: four working hours
    assert steps(db, escalation) == [(1, [people.manager.id])]
    assert chase(at(12)) == 0 and chase(at(15, 59)) == 0  # each step once
    assert chase(at(16)) == 1
    assert steps(db, escalation)[1] == (2, [people.hos.id])  # the head of service of the case's area, not another
    assert chase(at(12, day=MONDAY + timedelta(days=1))) == 1
    assert steps(db, escalation)[2] == (3, [people.lead.id])
    assert chase(MONDAY + timedelta(days=30)) == 0  # the ladder ends there

    trail = events(db, "escalation.chase")
    assert [e.after["step"] for e in trail] == [1, 2, 3] and all(e.actor_id is None for e in trail)
    assert "not acknowledged after 8 working hours: step 2, escalated to the head of service: Hana Head" in (
        trail[1].summary
    )
    # The emails: raised (manager, lead), then one per step, each with the child's ID and a link only.
    outbox.outbox_deliver(job_sessions, settings=settings, now=MONDAY + timedelta(days=1, hours=12))
    mails = received_by(smtp_server)
    assert {k: len(v) for k, v in mails.items()} == {
        "manager@council.example": 2,
        "lead@council.example": 2,
        "hos@council.example": 1,
    }
    (to_head,) = mails["hos@council.example"]
    assert to_head.message["Subject"] == "Not yet acknowledged: safeguarding concern for child CHILD0042"
    assert "not been acknowledged 8 working hours after it was raised" in to_head.body
    assert f"https://audit.example/escalations/{escalation.id}" in to_head.body and "Bruising" not in to_head.body
    assert "head of service for the child's service area" in to_head.body
    (notification,) = notifications_of(db, people.manager)
    assert (
        notification.message == "Safeguarding escalation for child CHILD0042: not acknowledged after 4 working hours."
    )
    assert notification.read_at is None

    # The steps are on the escalation's page.
    login(client, "manager")
    text = page_text(client.get(f"/escalations/{escalation.id}").text)
    assert "Reminder to the person told 30 Nov 2026, 12:00 Maya Manager" in text
    assert "Escalated to the head of service 30 Nov 2026, 16:00 Hana Head" in text
    assert "Escalated to the QA leads 1 Dec 2026, 12:00 Quinn Lead" in text


def test_the_head_of_service_sees_the_escalation_once_the_ladder_reaches_them_and_no_one_else_does(
    client, db, with_emails, raised_friday, job_sessions, database_url
):
    settings = _settings(database_url)
    url = f"/escalations/{raised_friday.id}"
    login(client, "hos")
    assert client.get(url).status_code == 404  # before step 2 it is not theirs to see
    escalations_chase(job_sessions, settings=settings, now=at(16))
    login(client, "hos")
    assert client.get(url).status_code == 200
    assert "1 safeguarding escalation waiting to be acknowledged" in page_text(client.get("/").text)
    assert client.get(f"/api/v1{url}", headers=api_headers(client, "hos")).status_code == 200
    # Someone it never reached (the recipient of another escalation, a practitioner of the team) still cannot.
    for username in ("other", "auditor"):
        login(client, username)
        assert client.get(url).status_code == 404, username
        assert client.get(f"/api/v1{url}", headers=api_headers(client, username)).status_code == 404
    # The head of service may acknowledge it, saying what was done.
    login(client, "hos")
    done = post_form(client, f"{url}/acknowledge", {"outcome": "strategy_discussion"})
    assert done.status_code == 303


def _settings(database_url):
    from tests.conftest import make_test_settings

    return make_test_settings(database_url)


def test_a_job_that_did_not_run_for_days_sends_each_step_due_once(
    db, with_emails, raised_friday, job_sessions, database_url
):
    report = escalations_chase(job_sessions, settings=_settings(database_url), now=MONDAY + timedelta(days=7))
    assert report.sent == 3 and dict(report.steps) == {1: 1, 2: 1, 3: 1}
    assert "3 chase steps sent (step 1: 1, step 2: 1, step 3: 1), 1 escalation waiting" in report.summary()
    assert [step for step, _ in steps(db, raised_friday)] == [1, 2, 3]


def test_without_a_head_of_service_step_two_goes_to_the_qa_leads(
    db, with_emails, raised_friday, job_sessions, database_url
):
    with_emails.hos.active = False
    db.add(with_emails.hos)
    db.flush()
    escalations_chase(job_sessions, settings=_settings(database_url), now=at(16))
    assert steps(db, raised_friday) == [(1, [with_emails.manager.id]), (2, [with_emails.lead.id])]


def test_an_acknowledged_or_withdrawn_escalation_is_not_chased(
    client, db, with_emails, raised_friday, job_sessions, database_url
):
    login(client, "manager")
    assert (
        post_form(client, f"/escalations/{raised_friday.id}/acknowledge", {"outcome": "referral_made"}).status_code
        == 303
    )
    report = escalations_chase(job_sessions, settings=_settings(database_url), now=MONDAY + timedelta(days=7))
    assert report.sent == 0 and report.open == 0 and steps(db, raised_friday) == []


def test_the_interval_comes_from_the_setting(db, with_emails, raised_friday, job_sessions, database_url):
    from tests.conftest import make_test_settings

    hourly = make_test_settings(database_url, escalation_chase_working_hours=1)
    assert escalations_chase(job_sessions, settings=hourly, now=at(9, 59)).sent == 1  # Friday's hour was the first
    assert escalations_chase(job_sessions, settings=hourly, now=at(10)).sent == 1
    assert [step for step, _ in steps(db, raised_friday)] == [1, 2]


def test_the_command_chases_and_says_what_it_did(cli_db, set_clock):
    from sqlmodel import Session
    from typer.testing import CliRunner

    from app.cli import alembic_upgrade, cli
    from app.db import make_engine
    from app.escalations.models import Escalation
    from tests.factories import make_audit, make_case, publish_templates

    alembic_upgrade(cli_db)
    engine = make_engine(cli_db)
    try:
        with Session(engine) as session:
            publish_templates(session)
            auditor = make_user(session, username="asha", roles=(Role.AUDITOR,))
            manager = make_user(session, username="maya", roles=(Role.PRACTITIONER,))
            audit = make_audit(session, case=make_case(session, child_id="CLI00001"), auditor=auditor)
            session.add(
                Escalation(
                    audit_id=audit.id,
                    case_id=audit.case_id,
                    raised_by_id=auditor.id,
                    recipient_id=manager.id,
                    description="Concern",
                    created_at=FRIDAY_4PM,
                )
            )
            session.commit()
    finally:
        engine.dispose()
    set_clock(at(12), running=False)
    result = CliRunner().invoke(cli, ["escalations", "chase"])
    assert result.exit_code == 0, result.output
    assert (
        "Escalations chased: 1 chase step sent (step 1: 1), 1 escalation waiting for acknowledgement." in result.output
    )
    again = CliRunner().invoke(cli, ["escalations", "chase"])
    assert again.exit_code == 0 and "Escalations chased: 0 chase steps sent, 1 escalation waiting" in again.output
