"""An audit of a case on an exact template version, and its answers (one row per question)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class Audit(SQLModel, table=True):
    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_auditor_id_status", "auditor_id", "status"),
        Index("ix_audit_case_id", "case_id"),
        # The reports: the period's completed audits, and each case's audits in order (follow-ups).
        Index("ix_audit_status_completed_at", "status", "completed_at"),
        Index("ix_audit_case_id_status_completed_at", "case_id", "status", "completed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="child_case.id")
    cycle_id: int | None = Field(default=None, foreign_key="audit_cycle.id", index=True)
    sample_id: int | None = Field(default=None, foreign_key="audit_sample.id")
    template_version_id: int = Field(foreign_key="template_version.id")
    # Denormalised from the template version, so lists and the API need no join; never changes.
    template_key: str = Field(max_length=60)
    template_version: int
    auditor_id: int = Field(foreign_key="app_user.id")
    status: str = Field(default="allocated", max_length=20)
    due_date: date | None = None
    started_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The grade that counts: the moderator's when the audit was moderated, else the auditor's (set on completion).
    final_grade: str | None = Field(default=None, max_length=30)
    # Set on completion: the compliance answers, one character per compliance question of the template version
    # (app.audit_templates.scoring.compliance_code), read by the reports instead of every answer row.
    compliance_answers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    version: int = Field(default=1)  # optimistic locking: every save must name the version it read
    # When the retention schedule anonymised it (app.retention.run): its free text is gone, its figures stay.
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # Whom the auditor chose to tell about a safeguarding concern that is started but not yet complete.
    safeguarding_recipient_id: int | None = Field(default=None, foreign_key="app_user.id")


class AuditAnswer(SQLModel, table=True):
    """One answer, with the register's suggestion beside it when the question has a prefill rule."""

    __tablename__ = "audit_answer"
    __table_args__ = (UniqueConstraint("audit_id", "question_key"),)

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", ondelete="CASCADE")
    question_key: str = Field(max_length=120)
    value: Any = Field(default=None, sa_column=Column(JSONType, nullable=True))
    prefill_value: str | None = Field(default=None, max_length=10)
    prefill_explanation: str | None = Field(default=None, max_length=500)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    # The audit version the save that last changed this answer produced: a save based on an older version that
    # touches this question is refused (someone else changed it since).
    changed_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class AuditDueChange(SQLModel, table=True):
    """An extension (or any change) of an audit's due date, with the reason: the history stays."""

    __tablename__ = "audit_due_change"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True, ondelete="CASCADE")
    old_due_date: date | None = None
    new_due_date: date
    reason: str = Field(max_length=2000)
    changed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))


class AuditReply(SQLModel, table=True):
    """The allocated worker's reply to a completed audit's findings, kept with the audit."""

    __tablename__ = "audit_reply"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True, ondelete="CASCADE")
    author_id: int = Field(foreign_key="app_user.id")
    text: str = Field(max_length=10000)
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))  # retention
