"""Form models and API shapes for safeguarding escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.escalations.selectors import ChaseRow, EscalationRow

# The keys of rules.OUTCOMES (tests/escalations/test_rules.py holds them equal).
Outcome = Literal["strategy_discussion", "referral_made", "already_known", "no_further_action"]


class EscalationAcknowledgeForm(BaseModel):
    """Acknowledging an escalation: what was done (the service names a missing or unknown one) and a note, which
    no further action needs (the service tidies it and names one that is missing or too long)."""

    outcome: str = ""
    note: str = ""


class EscalationAcknowledge(BaseModel):
    """Acknowledging an escalation through the API: what was done, and a note (required for no_further_action: why)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome = Field(
        description="strategy_discussion (strategy discussion held), referral_made, already_known (already known and "
        "being acted on) or no_further_action"
    )
    note: str = Field(default="", max_length=10_000, description="what was done; for no_further_action, why")


class ChasePublic(BaseModel):
    step: int = Field(description="1: the recipient again; 2: the heads of service of the case's area; 3: the QA leads")
    sent_at: datetime
    recipients: list[str] = Field(description="the names of the people told")


class EscalationPublic(BaseModel):
    id: int
    audit_id: int
    child_id: str
    description: str
    raised_by_id: int
    raised_by: str
    raised_at: datetime
    recipient_id: int
    recipient: str
    status: Literal["open", "acknowledged", "withdrawn"]
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    acknowledged_by: str | None
    outcome: str | None = Field(description="what was done, once acknowledged (null: acknowledged before it was asked)")
    outcome_label: str | None
    note: str
    working_hours_to_acknowledge: float | None = Field(
        description="working hours (09:00-17:00 on working days) from raising to acknowledgement"
    )
    withdrawn_at: datetime | None
    withdrawn_by_id: int | None
    withdrawn_reason: str | None
    chases: list[ChasePublic]
    version: int


def escalation_public(row: EscalationRow, chases: list[ChaseRow]) -> EscalationPublic:
    e = row.escalation
    assert e.id is not None
    acknowledged = row.status == "acknowledged"
    return EscalationPublic(
        id=e.id,
        audit_id=e.audit_id,
        child_id=row.child_id,
        description=e.description,
        raised_by_id=e.raised_by_id,
        raised_by=row.raised_by_name,
        raised_at=e.created_at,
        recipient_id=e.recipient_id,
        recipient=row.recipient_name,
        status=row.status,
        acknowledged_at=e.acknowledged_at,
        acknowledged_by_id=e.acknowledged_by_id,
        acknowledged_by=row.acknowledged_by_name or None,
        outcome=e.outcome,
        outcome_label=row.outcome_label if acknowledged else None,
        note=e.acknowledgement_note,
        working_hours_to_acknowledge=(
            round(row.working_time.total_seconds() / 3600, 2) if row.working_time is not None else None
        ),
        withdrawn_at=e.withdrawn_at,
        withdrawn_by_id=e.withdrawn_by_id,
        withdrawn_reason=e.withdrawn_reason,
        chases=[ChasePublic(step=c.step, sent_at=c.sent_at, recipients=c.names) for c in chases],
        version=e.version,
    )
