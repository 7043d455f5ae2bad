"""Producing a child's records on request: collect, redact when asked, write the ZIP, and record in the audit trail
who produced which variant of whose records, with the SHA-256 of the file given out."""

from __future__ import annotations

from sqlmodel import Session

from app import clock
from app.accounts.models import User
from app.audit_trail.service import audit_record
from app.cases.models import Case
from app.config import Settings
from app.records.subject_access.collect import records_collect
from app.records.subject_access.document import RecordsFile, records_document
from app.records.subject_access.redact import records_redact
from app.records.subject_access.schemas import REDACTED, VARIANTS

ACTION = "records_request.export"


def records_request_produce(
    session: Session, *, case: Case, variant: str, actor: User, settings: Settings
) -> RecordsFile:
    """The ZIP of the child's records in `variant` ("full" or "redacted"), recorded in the audit trail."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    records = records_collect(
        session,
        case=case,
        produced_by=actor,
        produced_at=clock.now(),
        today=settings.today(),
        service_name=settings.service_name,
        timezone=settings.timezone,
    )
    if variant == REDACTED:
        records = records_redact(records)
    document = records_document(records, settings=settings)
    audit_record(
        session,
        actor=actor,
        action=ACTION,
        entity_type="case",
        entity_id=case.id,
        summary=f"Produced the {variant} records of child {case.child_id} for a records request",
        after={"variant": variant, "sha256": document.sha256, "filename": document.filename},
    )
    return document
