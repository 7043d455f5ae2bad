"""Tables for the case register (the sampling frame) and the imports that build it.

Only what sampling and auditing need is kept: a pseudonymous child reference, month and
year of birth, the equality fields used in reporting, case type, team, worker and the key
dates and counts. Case notes are never stored.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class Case(SQLModel, table=True):
    __tablename__ = "child_case"
    __table_args__ = (
        Index("ix_child_case_status_case_type", "status", "case_type"),
        Index("ix_child_case_service_area_id_status", "service_area_id", "status"),
        # Measured by bench/bench_case_list.py: the filtered count and the first page sorted by child ID.
        Index("ix_child_case_team_id_status_case_type_child_id", "team_id", "status", "case_type", "child_id"),
        Index("ix_child_case_status_child_id", "status", "child_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_id: str = Field(max_length=40, unique=True)
    source: str = Field(max_length=20)
    source_lists: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    birth_year: int | None = None
    birth_month: int | None = None
    age_at_extract: int | None = None
    gender: str | None = Field(default=None, max_length=40)
    ethnicity: str | None = Field(default=None, max_length=40)
    disability: bool | None = None
    case_type: str = Field(max_length=20)
    legal_status: str | None = Field(default=None, max_length=10)
    primary_need: str | None = Field(default=None, max_length=10)
    category_of_abuse: str | None = Field(default=None, max_length=60)
    service_area_id: int | None = Field(default=None, foreign_key="service_area.id")
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    worker_name: str | None = Field(default=None, max_length=120, index=True)
    manager_name: str | None = Field(default=None, max_length=120)
    # The case management system's identifier of the allocated worker, where the extract has one.
    worker_id: str | None = Field(default=None, max_length=60)
    # Who the worker and the team manager are, by identity (app.cases.people keeps these): the worker's account
    # from the QA lead's mapping (WorkerLink), the manager from the team's manager. Never matched by name alone.
    worker_user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    manager_user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    status: str = Field(default="open", max_length=10)
    start_date: date | None = None
    end_date: date | None = None
    referral_date: date | None = None
    assessment_start: date | None = None
    assessment_authorised: date | None = None
    child_seen: bool | None = None
    seen_alone: bool | None = None
    last_seen_date: date | None = None
    last_statutory_visit: date | None = None
    latest_review: date | None = None
    last_iro_contact: date | None = None
    last_health_check: date | None = None
    last_dental_check: date | None = None
    permanence_plan: str | None = Field(default=None, max_length=120)
    placements_12m: int | None = None
    missing_12m: int | None = None
    absent_12m: int | None = None
    return_interview_offered: bool | None = None
    return_interview_accepted: bool | None = None
    # Per-list involvement: {"List 7": {"start": "2020-11-23", "end": null}, ...}
    involvements: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    facts_hash: str = Field(max_length=64)
    last_import_id: int | None = Field(default=None, foreign_key="case_import.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = Field(default=1)
    # When the retention schedule anonymised it (app.retention.run): its free text is gone, its figures stay.
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class CaseImport(SQLModel, table=True):
    """One upload of an extract: who, when, which files, what it would change or changed, and the problems."""

    __tablename__ = "case_import"

    id: int | None = Field(default=None, primary_key=True)
    format: str = Field(max_length=20)
    mode: str = Field(max_length=20)
    full: bool = Field(default=False)  # close open cases of the kinds the extract covers that are not in it
    # "previewed", "rejected", "queued", "importing", "committed", "failed", "discarded", "expired"
    status: str = Field(max_length=20)
    file_names: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    file_hashes: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    rows_read: int = 0
    rows_done: int = 0  # progress while importing: changes written so far, of rows_total
    rows_total: int = 0
    phase: str | None = Field(default=None, max_length=80)  # what a running import is doing, for the progress page
    progress_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))  # heartbeat
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    rejected: int = 0
    new_teams: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    warnings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    # The kinds of case the extract covers (case type values), and the open cases of those kinds not in it that a
    # full import closes (or closed): [{"id", "child_id", "case_type"}], the first MAX_LISTED_CLOSING by child ID
    covers: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    closing: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    # Fingerprints of which cases the preview creates, updates and closes and which rows it rejects: confirming
    # writes only if the register would still change exactly so (app.cases.imports.rules.preview_changes)
    plan_digests: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    changes: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))  # at the last confirm
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))  # of a preview
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    # When it was written, rejected, discarded or expired
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # When the retention schedule anonymised it (app.retention.run): its free text is gone, its figures stay.
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class CaseImportFile(SQLModel, table=True):
    """An uploaded file kept between preview and confirmation (in the database: the app is stateless)."""

    __tablename__ = "case_import_file"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="case_import.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class WorkerLink(SQLModel, table=True):
    """The QA lead's mapping of a worker in the register to a user account.

    `link_key` is the worker as the register knows them: "id:<worker id>" where the extract carries the case
    system's identifier, or "name:<team id>:<name, case folded>" (a name means one person only within one team).
    """

    __tablename__ = "worker_link"

    id: int | None = Field(default=None, primary_key=True)
    link_key: str = Field(max_length=200, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))


class CaseFactCorrection(SQLModel, table=True):
    """A QA lead's correction of one register fact of a case that the case system's extract had wrong: the value
    before and after, why, who and when. Kept for good: it is the fact's history on the case page.

    `source_value` is what the case system said when the fact was corrected (the value before, or, for a fact
    corrected again, what the first correction replaced). The correction is pinned while later imports still bring
    that value; an import bringing another value is taken, and marks the correction superseded by that import; a
    later correction of the same fact supersedes it too (app.cases.corrections.rules.corrections_pin). Values are
    JSON: dates as YYYY-MM-DD, yes/no as true/false, counts as numbers, "not recorded" as null."""

    __tablename__ = "case_fact_correction"
    __table_args__ = (Index("ix_case_fact_correction_case_id_superseded_at", "case_id", "superseded_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="child_case.id")
    field: str = Field(max_length=40)
    old_value: Any = Field(default=None, sa_column=Column(JSONType, nullable=True))
    new_value: Any = Field(default=None, sa_column=Column(JSONType, nullable=True))
    source_value: Any = Field(default=None, sa_column=Column(JSONType, nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    corrected_by_id: int = Field(foreign_key="app_user.id")
    corrected_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    # Set once the correction no longer holds: an import brought another value, or the fact was corrected again.
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    superseded_by_import_id: int | None = Field(default=None, foreign_key="case_import.id")
    superseded_by_correction_id: int | None = Field(default=None, foreign_key="case_fact_correction.id")


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
