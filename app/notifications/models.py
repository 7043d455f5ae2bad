"""In-app notifications (one row per person and item, written by the reminders and the safeguarding alerts, read on
the person's pages) and the email outbox (every email the service sends, added in the transaction that calls for
it and sent afterwards by `app.notifications.outbox.outbox_deliver`)."""

from datetime import date, datetime

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class Notification(SQLModel, table=True):
    """An in-app notification about one item: a recommendation (the same items the daily digest sends) or a
    safeguarding escalation. One per person and item, saying its current state: the reminders rewrite a
    recommendation's (unread again) when its kind or wording changes and delete it once the item is closed or no
    longer concerns the person; an escalation's is rewritten (unread again) when it is chased or withdrawn, and
    marked read once it is acknowledged. `day` is the local day it was last raised or changed."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "recommendation_id", name="uq_notification_user_item"),
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_user_escalation", "user_id", "escalation_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    recommendation_id: int | None = Field(default=None, foreign_key="recommendation.id", ondelete="CASCADE")
    # No ON DELETE: SQLite keeps a key added to an existing table in the column, where its action cannot be read
    # back; escalations are never deleted (nor the audits they belong to).
    escalation_id: int | None = Field(default=None, foreign_key="safeguarding_escalation.id")
    # due_in_7_days, due_tomorrow, overdue, escalated (recommendations); escalation_raised, escalation_chased,
    # escalation_withdrawn (safeguarding escalations)
    kind: str = Field(max_length=30)
    message: str = Field(max_length=500)
    day: date
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class EmailOutbox(SQLModel, table=True):
    """One email to one person (a transactional outbox): added in the same transaction as the change it reports,
    so it is sent if and only if that change is committed, and once only (`dedupe_key` is unique: adding the same
    key again adds nothing). Due while unsent with `next_attempt_at` at or before now; a failure is retried later
    (`attempts`, `last_error`, `next_attempt_at` moved on), and a row with no `next_attempt_at` is finished
    without being sent (skipped, with the reason in `last_error`, or given up after too many failures).
    `last_error` never holds personal data: the mail module's messages name only the server and the SMTP code."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "sent_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    to_user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL", index=True)
    to_address: str = Field(default="", sa_column=Column(String(254), nullable=False, server_default=""))
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(max_length=40)
    dedupe_key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    attempts: int = Field(default=0)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
