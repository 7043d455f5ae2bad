"""Safeguarding escalations: an auditor finds a child at immediate risk and a named person must acknowledge it;
until they do, it is chased up a ladder (`EscalationChase`)."""

from datetime import datetime

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class Escalation(SQLModel, table=True):
    """Raised the moment the auditor saves "Yes" to the template's safeguarding question (never waiting for
    submission); its recipient and the QA leads are emailed and notified at once, and it is shown at the top of
    their home pages until acknowledged (with what was done: `outcome`) or withdrawn by the auditor (the answer
    changed back from Yes, with a reason). Rows acknowledged before outcomes were recorded have none."""

    __tablename__ = "safeguarding_escalation"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True, ondelete="CASCADE")
    case_id: int = Field(foreign_key="child_case.id", index=True)
    raised_by_id: int = Field(foreign_key="app_user.id")
    recipient_id: int = Field(foreign_key="app_user.id", index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    acknowledged_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    acknowledgement_note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # What the person who acknowledged it did (app.escalations.rules.OUTCOMES); None: acknowledged before it was asked.
    outcome: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    withdrawn_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    withdrawn_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    version: int = 1
    # When the retention schedule anonymised it (app.retention.run): its free text is gone, its figures stay.
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class EscalationChase(SQLModel, table=True):
    """One step of the chase ladder, sent once (unique per escalation and step): 1 the recipient again, 2 the heads
    of service of the case's area (the QA leads when it has none), 3 the QA leads. `recipient_ids`: who was told."""

    __tablename__ = "escalation_chase"
    __table_args__ = (UniqueConstraint("escalation_id", "step", name="uq_escalation_chase_step"),)

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="safeguarding_escalation.id", ondelete="CASCADE")
    step: int
    sent_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    recipient_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
