"""In-app notifications: one row per person and item, written by the reminders (and read on the person's pages)."""

from datetime import date, datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class Notification(SQLModel, table=True):
    """An in-app reminder: the same items the daily digest sends, shown to the person on their pages.
    One per person and recommendation, saying its current state: the reminders rewrite it (unread again) when
    its kind or wording changes and delete it once the item is closed or no longer concerns the person, so the
    table holds at most the outstanding items' recipients. `day` is the local day it was last raised or changed."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "recommendation_id", name="uq_notification_user_item"),
        Index("ix_notification_user_read", "user_id", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    recommendation_id: int | None = Field(default=None, foreign_key="recommendation.id", ondelete="CASCADE")
    kind: str = Field(max_length=30)  # due_in_7_days, due_tomorrow, overdue, escalated
    message: str = Field(max_length=500)
    day: date
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
