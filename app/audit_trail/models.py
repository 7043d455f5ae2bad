"""The append-only, hash-chained audit trail."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime


class AuditEvent(SQLModel, table=True):
    """One thing that happened: who, when, what, to which record, with a before/after summary.

    `hash` covers every other field and the previous event's hash, so editing or deleting any row breaks the chain
    from that row on. The event's *details* (summary, before, after) are covered through `details_hash`, so a
    retention rule can remove them (a redaction, itself an `audit_trail.redact` event) and the chain still verifies;
    events linked before details hashes (`details_hash` empty) are hashed over their details themselves and cannot
    be redacted (app.audit_trail.service).
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    # The event's place in the chain, given after its transaction commits (app.audit_trail.service); empty until
    # then, like prev_hash, hash and seal.
    seq: int | None = Field(default=None, unique=True)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    actor_label: str = Field(max_length=120)
    action: str = Field(max_length=80, index=True)
    entity_type: str | None = Field(default=None, max_length=60)
    entity_id: str | None = Field(default=None, max_length=80)
    summary: str = Field(max_length=500)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
    # HMAC of `hash` with a key the database does not hold (app.audit_trail.service): someone who can rewrite the
    # table, and so re-hash every event, still cannot re-seal them. Null only for events from before seals.
    seal: str | None = Field(default=None, max_length=64)
    # SHA-256 of the details (summary, before, after), given at linking; the chain covers it instead of the details.
    # Null only for events linked before details hashes, whose hash covers the details themselves.
    details_hash: str | None = Field(default=None, max_length=64)
    # Set once, by a redaction (app.audit_trail.service.audit_redact): when, under which retention rule, and the
    # `audit_trail.redact` event (its id: that event has no place in the chain yet when it redacts) that did it.
    redacted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    redaction_rule: str | None = Field(default=None, max_length=80)
    redacted_by_id: int | None = Field(default=None)


class AuditChainHead(SQLModel, table=True):
    """A single row that serialises appends: whoever updates it first appends first."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0)
    last_hash: str = Field(max_length=64)
