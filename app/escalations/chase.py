"""Chasing safeguarding escalations nobody has acknowledged: the job `escalations_chase(new_session, settings=...,
now=...)` (`job(new_session, **kwargs)`), run every few minutes by the job queue or `caseaudit escalations chase`.

For each open escalation it asks `rules.chase_step_due` which step of the ladder is due and sends it
(`service.escalation_chase_step`), each step in a transaction of its own. A step is recorded once (unique per
escalation and step), so the job is safe to run again, and alongside another run: it sends nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from app import clock
from app.audit_trail.service import commit_and_link
from app.config import Settings, get_settings
from app.db import SessionMaker
from app.escalations import rules, service
from app.escalations.models import Escalation, EscalationChase


@dataclass
class ChaseReport:
    """What a run did (no personal data): how many open escalations it looked at and the steps it sent."""

    open: int = 0
    steps: Counter[int] = field(default_factory=Counter)

    @property
    def sent(self) -> int:
        return sum(self.steps.values())

    def summary(self) -> str:
        steps = ", ".join(f"step {step}: {n}" for step, n in sorted(self.steps.items()))
        return (
            f"Escalations chased: {self.sent} chase step{'s' if self.sent != 1 else ''} sent"
            + (f" ({steps})" if steps else "")
            + f", {self.open} escalation{'s' if self.open != 1 else ''} waiting for acknowledgement."
        )


def _open_with_steps(new_session: SessionMaker) -> list[tuple[int, datetime, int]]:
    """(id, raised at, steps sent) of every open escalation."""
    done = func.coalesce(func.max(col(EscalationChase.step)), 0)
    stmt = (
        select(col(Escalation.id), col(Escalation.created_at), done)
        .outerjoin(EscalationChase, col(EscalationChase.escalation_id) == col(Escalation.id))
        .where(col(Escalation.acknowledged_at).is_(None), col(Escalation.withdrawn_at).is_(None))
        .group_by(col(Escalation.id), col(Escalation.created_at))
        .order_by(col(Escalation.id))
    )
    with new_session() as session:
        return [(row[0], row[1], row[2]) for row in session.execute(stmt).all()]


def escalations_chase(
    new_session: SessionMaker, settings: Settings | None = None, now: datetime | None = None
) -> ChaseReport:
    """Send every chase step that is due (a job; idempotent). `now` fixes the run's time (default: the clock)."""
    settings = settings or get_settings()
    at = now or clock.now()
    hours = rules.working_hours_for(settings)
    every = settings.escalation_chase_working_hours
    report = ChaseReport()
    for escalation_id, raised_at, done in _open_with_steps(new_session):
        report.open += 1
        step = rules.chase_step_due(raised_at, at, done, hours, every)
        while step is not None:
            with new_session() as session:
                escalation = session.get(Escalation, escalation_id)
                sent = (
                    service.escalation_chase_step(session, escalation=escalation, step=step, settings=settings, now=at)
                    if escalation is not None
                    else None
                )
                commit_and_link(session)
            if sent is None:
                break
            report.steps[step] += 1
            step = rules.chase_step_due(raised_at, at, step, hours, every)
    return report
