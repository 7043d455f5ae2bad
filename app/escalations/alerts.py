"""Telling people about a safeguarding escalation: an email in the outbox (`app.notifications.outbox`) and an in-app
notification for each person, in the transaction of the change they report (raised, chased, withdrawn).

What they say is the least that gets the right person to act: the child's ID (the case system's pseudonymous
reference) and a link to the escalation's page, which shows the rest to those allowed to see it once signed in.
Never the child's name, the concern's description, the reason for a withdrawal or anything else from the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.accounts.models import User
from app.config import Settings
from app.escalations import rules
from app.escalations.models import Escalation
from app.notifications import outbox
from app.notifications import service as notifications

RAISED, CHASED, WITHDRAWN = "escalation_raised", "escalation_chased", "escalation_withdrawn"


@dataclass(frozen=True)
class Alert:
    """One message, as an email (subject and body) and as an in-app notification (`notice`)."""

    subject: str
    body: str
    notice: str


def escalation_url(base_url: str, escalation_id: int) -> str:
    return f"{base_url.rstrip('/')}/escalations/{escalation_id}"


def _body(lines: list[str], *, url: str, why: str, service_name: str) -> str:
    return "\n".join([*lines, "", "Sign in to read it:", url, "", f"-- \n{service_name}. {why}"])


def raised_alert(child_id: str, url: str, *, as_recipient: bool, service_name: str) -> Alert:
    if as_recipient:
        lines = [
            f"An auditor has raised an immediate safeguarding concern for child {child_id} and named you as the "
            "person to tell.",
            "Read it and acknowledge it today, saying what was done.",
        ]
        why = "You get this email because you were named as the person to tell."
    else:
        lines = [
            f"An auditor has raised an immediate safeguarding concern for child {child_id}. It is waiting to be "
            "acknowledged by the person told."
        ]
        why = "You get this email as a QA lead."
    return Alert(
        subject=f"Immediate safeguarding concern for child {child_id}",
        body=_body(lines, url=url, why=why, service_name=service_name),
        notice=f"Safeguarding escalation for child {child_id}: raised, waiting for acknowledgement.",
    )


_CHASE_WHY = {
    rules.RECIPIENT_STEP: "You get this email because you were named as the person to tell.",
    rules.HEAD_OF_SERVICE_STEP: "You get this email as a head of service for the child's service area.",
    rules.QA_LEAD_STEP: "You get this email as a QA lead.",
}


def chase_alert(child_id: str, url: str, *, step: int, working_hours: int, service_name: str) -> Alert:
    """Step `step` of the ladder, `working_hours` working hours after the escalation was raised."""
    since = f"{working_hours} working hour{'s' if working_hours != 1 else ''}"
    lines = [
        f"The immediate safeguarding concern for child {child_id} has not been acknowledged {since} after it was "
        "raised."
    ]
    if step == rules.RECIPIENT_STEP:
        lines.append("Read it and acknowledge it now, saying what was done.")
    else:
        lines.append("Make sure someone acts on it today: anyone told may acknowledge it, saying what was done.")
    return Alert(
        subject=f"Not yet acknowledged: safeguarding concern for child {child_id}",
        body=_body(lines, url=url, why=_CHASE_WHY.get(step, ""), service_name=service_name),
        notice=f"Safeguarding escalation for child {child_id}: not acknowledged after {since}.",
    )


def withdrawn_alert(child_id: str, url: str, *, service_name: str) -> Alert:
    lines = [
        f"The auditor has withdrawn the immediate safeguarding concern for child {child_id}: their answer is no "
        "longer Yes. It no longer needs to be acknowledged; their reason is on its page."
    ]
    return Alert(
        subject=f"Withdrawn: safeguarding concern for child {child_id}",
        body=_body(
            lines, url=url, why="You get this email because you were told of the concern.", service_name=service_name
        ),
        notice=f"Safeguarding escalation for child {child_id}: withdrawn by the auditor.",
    )


def tell(
    session: Session,
    *,
    escalation: Escalation,
    people: Iterable[tuple[User, Alert]],
    kind: str,
    event: str,
    settings: Settings,
    now: datetime,
) -> list[int]:
    """Queue each person's email (once per escalation, `event` and person: the outbox's key) and write their
    notification. Returns the ids of the people told, in order."""
    assert escalation.id is not None
    told: list[int] = []
    for person, alert in people:
        assert person.id is not None
        if person.id in told:
            continue
        told.append(person.id)
        outbox.outbox_add(
            session,
            user=person,
            subject=alert.subject,
            body=alert.body,
            kind=kind,
            key=f"escalation:{escalation.id}:{event}:user:{person.id}",
            now=now,
        )
        notifications.escalation_notify(
            session,
            user_ids=[person.id],
            escalation_id=escalation.id,
            kind=kind,
            message=alert.notice,
            day=now.astimezone(settings.tz).date(),
            now=now,
        )
    return told
