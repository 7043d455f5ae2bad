"""What the queue keeps of its own on both databases: each failed attempt of a job, with its error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class JobFailure(SQLModel, table=True):
    __tablename__ = "job_failure"

    id: int | None = Field(default=None, primary_key=True)
    job_name: str = Field(max_length=80)
    job_id: str | None = Field(default=None, max_length=40)  # the queue's id for the job, where it has one
    attempt: int
    error: str = Field(sa_column=Column(Text, nullable=False))  # the kind of error and its safe message
    failed_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False, index=True))
    final: bool = False  # no attempt is left: the job will not run again by itself
