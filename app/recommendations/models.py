"""Recommendations raised from audit findings (or thematic findings of a cycle), their history, the managed list
of learning themes, and the reminders and in-app notifications that chase them."""

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class Theme(SQLModel, table=True):
    """A learning theme from the managed list (e.g. "Chronology", "Child's voice"); retired, never deleted."""

    __tablename__ = "recommendation_theme"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))


class Recommendation(SQLModel, table=True):
    """What must be done, by whom and by when. From an audit (audit, case and section set) or a thematic
    finding of a cycle (no case). Team and service area come from the case (or the owner, for thematic ones),
    and are kept on the row so the dashboards filter on them without joins."""

    __tablename__ = "recommendation"
    __table_args__ = (
        # The dashboard's grouped counts are answered from these indexes alone (bench/README.md): each carries
        # the columns its queries group or filter on, not just the ones they seek by.
        Index("ix_recommendation_area_status_due", "service_area_id", "status", "due_date", "team_id"),
        Index("ix_recommendation_owner_status_due", "owner_id", "status", "due_date"),
        Index("ix_recommendation_team_status", "team_id", "status"),
        Index("ix_recommendation_area_raised", "service_area_id", "raised_at", "status"),
        Index("ix_recommendation_area_closed", "service_area_id", "status", "closed_at", "days_to_close"),
    )

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    audit_id: int | None = Field(default=None, foreign_key="audit.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="child_case.id", index=True)
    section_key: str | None = Field(default=None, max_length=120)
    cycle_id: int | None = Field(default=None, foreign_key="audit_cycle.id", index=True)
    owner_id: int = Field(foreign_key="app_user.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    service_area_id: int | None = Field(default=None, foreign_key="service_area.id")
    priority: str = Field(max_length=10)
    due_date: date
    status: str = Field(default="open", max_length=20)
    raised_by_id: int = Field(foreign_key="app_user.id", index=True)
    raised_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    evidence: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    # Whole days from raising to closing, on the local calendar: the dashboards' median reads this column.
    days_to_close: int | None = None
    version: int = Field(default=1)
    # When the retention schedule anonymised it (app.retention.run): its free text is gone, its figures stay.
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class RecommendationTheme(SQLModel, table=True):
    """The themes a recommendation is tagged with."""

    __tablename__ = "recommendation_theme_link"

    recommendation_id: int = Field(foreign_key="recommendation.id", primary_key=True, ondelete="CASCADE")
    theme_id: int = Field(foreign_key="recommendation_theme.id", primary_key=True, index=True)


class RecommendationEvent(SQLModel, table=True):
    """One step in a recommendation's life as its page shows it: raised, started, completed (with the evidence),
    closed, reopened (with the reason), due date changed (old and new, with the reason), owner changed."""

    __tablename__ = "recommendation_event"

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(foreign_key="recommendation.id", index=True, ondelete="CASCADE")
    action: str = Field(max_length=20)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    old_due_date: date | None = None
    new_due_date: date | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))


class ReminderDigest(SQLModel, table=True):
    """The digest sent to one person on one local day: at most one, whatever the number of runs."""

    __tablename__ = "reminder_digest"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_reminder_digest_once_a_day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    day: date
    items: int = 0
    channel: str = Field(max_length=10)  # smtp or log
    status: str = Field(default="sent", max_length=10)  # sent or failed (a failed one is tried again)
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
