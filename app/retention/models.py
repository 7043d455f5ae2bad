"""Legal holds on cases, and the record of each retention run."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class LegalHold(SQLModel, table=True):
    """A case (and everything about it: audits, answers, moderation, replies, recommendations, escalations, what the
    trail says of it) kept past its retention period, for a reason the QA lead gives (a complaint, litigation, an
    inquiry). Lifted, never deleted: the row says who lifted it, when and why."""

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_case_id_lifted_at", "case_id", "lifted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="child_case.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    placed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    placed_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    lifted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    lifted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    lifted_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RetentionRun(SQLModel, table=True):
    """One run of the retention schedule: when, by whom (or the scheduled job), dry or applied, and what it found
    and did per rule ({"closed_cases": {"due": 3, "done": 3, "held": 1, "action": "delete"}, ...})."""

    __tablename__ = "retention_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    dry_run: bool = Field(default=False)
    status: str = Field(default="running", max_length=20)  # "running", "done", "failed"
    actor_label: str = Field(max_length=120)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    problem: str | None = Field(default=None, max_length=500)
