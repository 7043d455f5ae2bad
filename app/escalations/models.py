"""Safeguarding escalations: an auditor finds a child at immediate risk and a named person must acknowledge it."""

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class Escalation(SQLModel, table=True):
    """Raised the moment the auditor saves "Yes" to the template's safeguarding question (never waiting for
    submission); shown at the top of the recipient's and the QA lead's home page until acknowledged."""

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
    version: int = 1
