"""The audit programme: cycles, the samples drawn for them and the cases in each sample."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class Cycle(SQLModel, table=True):
    """One piece of planned audit activity, e.g. "December dip sample" or "Missing children thematic"."""

    __tablename__ = "audit_cycle"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # dip_sample | thematic | deep_dive | multi_agency
    template_key: str = Field(max_length=60)
    template_version: int  # pinned when the cycle is created: every audit in it uses this version
    theme: str = ""  # theme or rationale
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    start_date: date | None = None
    due_date: date
    moderation_rate: float = 0.1  # the share of submitted audits picked at random for moderation
    blind_moderation: bool = True  # moderators grade before they see the auditor's grades
    status: str = Field(default="planned", max_length=20)  # planned | sampling | in_progress | closed
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class Sample(SQLModel, table=True):
    """A draw, stored with everything a reviewer needs to check it: method, parameters, seed, frame hash."""

    __tablename__ = "audit_sample"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="audit_cycle.id", index=True)
    method: str = Field(max_length=20)  # random | stratified | thematic
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    seed: int
    size: int  # as asked
    frame_size: int
    frame_hash: str = Field(max_length=64)
    strata: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    exclusions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    allocated: bool = False
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))


class SampleCase(SQLModel, table=True):
    __tablename__ = "sample_case"
    __table_args__ = (UniqueConstraint("sample_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="audit_sample.id", ondelete="CASCADE")
    case_id: int = Field(foreign_key="child_case.id", index=True)
    stratum: str | None = Field(default=None, max_length=200)
    manual_reason: str | None = None  # set: added by hand, with the QA lead's reason
