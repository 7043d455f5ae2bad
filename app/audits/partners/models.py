"""Tables of a multi-agency audit: who completes each agency's section, and what the panel meeting agreed."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class SectionPartner(SQLModel, table=True):
    """One agency section of one audit, assigned by the QA lead to a named partner representative, who alone
    completes it (the auditor completes the rest)."""

    __tablename__ = "audit_section_partner"
    __table_args__ = (UniqueConstraint("audit_id", "section_key", name="uq_audit_section_partner"),)

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True)
    section_key: str = Field(max_length=60)
    partner_id: int = Field(foreign_key="app_user.id", index=True)
    assigned_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    assigned_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))


class PanelMeeting(SQLModel, table=True):
    """The multi-agency panel's meeting on one audit: when, who came for which agency, what it concluded, the grade
    it agreed, any dissent. Its actions are recommendations raised from the audit, each owned by an agency's
    representative."""

    __tablename__ = "panel_meeting"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", unique=True)
    held_on: date
    # [{"agency": "police", "name": "DS Jane Roe"}, ...]: attendees by agency, as the minutes list them.
    attendees: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    conclusion: str = Field(sa_column=Column(Text, nullable=False))
    grade: str | None = Field(default=None, max_length=30)
    dissent: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The actions agreed, as raised: [{"recommendation_id": 7, "agency": "police", "owner_id": 12}, ...].
    actions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False, server_default=text("'[]'"))
    )
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = Field(default=1)
