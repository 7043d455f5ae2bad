"""The record of each retention run. (Legal holds are the cases area's: app.cases.models.LegalHold, so a child's
records request, below this area, can read them.)"""

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


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
