"""Board pack schedules, packs (a draft until issued, then fixed for good) and their deliveries to the board."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime

FREQUENCIES = ("monthly", "quarterly")
DRAFT, GENERATING, ISSUED, FAILED = "draft", "generating", "issued", "failed"


class PackSchedule(SQLModel, table=True):
    """Packs prepared by themselves: for each month (or quarter) that has ended, on its `working_day`th working day
    after, a draft for the QA lead's commentary."""

    __tablename__ = "board_pack_schedule"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    frequency: str = Field(max_length=20)  # FREQUENCIES
    working_day: int  # 1 to 15: the working day after the period's end on which its draft is prepared
    service_area_id: int | None = Field(default=None, foreign_key="service_area.id")  # None: all areas
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))  # emails
    active: bool = True
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class BoardPackRecord(SQLModel, table=True):
    """One pack for one period and scope: a draft (parameters and commentary may change) until issued; then its PDF,
    SHA-256, parameters and commentary never change."""

    __tablename__ = "board_pack_record"
    __table_args__ = (UniqueConstraint("schedule_id", "period_value", name="uq_board_pack_record_schedule_period"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int | None = Field(default=None, foreign_key="board_pack_schedule.id", index=True)
    period_kind: str = Field(max_length=10)  # month or quarter
    period_value: str = Field(max_length=10)  # 2026-11 or 2026-Q3
    service_area_id: int | None = Field(default=None, foreign_key="service_area.id", index=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))  # other filters
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    commentary: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default=DRAFT, max_length=20, index=True)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    issued_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    issued_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sha256: str | None = Field(default=None, max_length=64)
    size: int | None = None
    filename: str | None = Field(default=None, max_length=120)
    generation_seconds: float | None = None
    version: int = 1


class PackDelivery(SQLModel, table=True):
    """The issued pack sent to one board member: attached, or as a signed link that expires."""

    __tablename__ = "board_pack_delivery"
    __table_args__ = (UniqueConstraint("pack_id", "email", name="uq_board_pack_delivery_pack_email"),)

    id: int | None = Field(default=None, primary_key=True)
    pack_id: int = Field(foreign_key="board_pack_record.id", index=True)
    email: str = Field(max_length=320)
    how: str = Field(max_length=20)  # attached or link
    link_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    error: str = Field(default="", max_length=300)
