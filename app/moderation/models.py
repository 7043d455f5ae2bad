"""Moderation: a second, independent grading of a share of audits, and the decision that follows."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class Moderation(SQLModel, table=True):
    """One round of moderation of one audit (an audit returned and resubmitted may be moderated again).

    Status: `allocated` (waiting for the moderator's blind grades, or for a moderator when `moderator_id` is
    None) -> `graded` (the moderator's grades are in; the auditor's are now shown beside them) -> `decided`.
    A compliance-only template (the dip sample) is moderated on its compliance answers instead of grades.
    """

    __tablename__ = "audit_moderation"
    __table_args__ = (UniqueConstraint("audit_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True, ondelete="CASCADE")
    round: int = 1
    # Why it was selected: inadequate | safeguarding | random | added (by the QA lead)
    reason: str = Field(max_length=20)
    # For a random selection: the audit's reproducible draw in [0, 1) and the rate it was compared with.
    selection_draw: float | None = None
    selection_rate: float | None = None
    # Why `selection_rate` is above the cycle's rate (`selection.effective_rate`), e.g. "fewer than 5 moderated
    # audits"; None when the cycle's rate was used.
    rate_raised_because: str | None = Field(default=None, max_length=200)
    moderator_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    status: str = Field(default="allocated", max_length=20)  # allocated | graded | decided
    blind: bool = True
    section_grades: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    overall_grade: str | None = Field(default=None, max_length=30)
    # The auditor's grades as they stood when the moderator graded (a returned audit's later changes do not
    # rewrite what this round compared): {section key: grade} and the overall grade.
    auditor_section_grades: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False, server_default="{}")
    )
    auditor_overall_grade: str | None = Field(default=None, max_length=30)
    # Compliance-only templates (the dip sample, no grades): the moderator's answers to the compliance questions the
    # auditor's form showed, {question key: "yes" | "no" | "na"}, and the auditor's answers to the same questions as
    # they stood when the moderator answered (None where the auditor gave none).
    moderator_answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False, server_default="{}")
    )
    auditor_answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False, server_default="{}")
    )
    # Agree (true) or disagree (false) with the auditor, per section key and under "overall" (a compliance-only
    # template: per compliance question key).
    agreement: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    learning: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    decision: str | None = Field(default=None, max_length=10)  # accept | return
    feedback: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    selected_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    graded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    version: int = 1
    # When the retention schedule anonymised it (app.retention.run): its free text is gone, its figures stay.
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
