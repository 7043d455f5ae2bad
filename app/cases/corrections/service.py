"""Correcting a register fact (the QA lead, with a reason), and what an import does to the corrections in force.

A correction names the case version it was made against (`app.db.claim_version`), so one made on a stale page (an
import or another correction came first) changes nothing and is refused (Conflict). It writes the corrected value
into the case, keeps the correction (the value before and after, why, who, when) and records a `case.correct`
audit-trail event. The case's facts hash is left as the import made it: it stands for what the case system said, so
an import that still says the same is unchanged, and the correction holds (`app.cases.corrections.rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from app import clock
from app.accounts.models import User
from app.audit_trail.service import audit_record
from app.cases.corrections.rules import (
    Pin,
    check_field,
    fact_label,
    fact_value,
    from_json,
    reason_text,
    shown,
    to_json,
)
from app.cases.corrections.selectors import correction_in_force
from app.cases.facts import FACT_FIELDS
from app.cases.models import Case, CaseFactCorrection, CaseImport
from app.db import claim_version
from app.errors import ValidationFailed

STALE = (
    "Someone else changed this case since you opened the form (an import, or another correction), so nothing was "
    "saved. Check its facts as they are now and correct it again."
)


@dataclass(frozen=True)
class CorrectionDraft:
    """A correction checked and ready to save (or to show for review): values as kept (JSON)."""

    field: str
    old_value: Any
    new_value: Any
    reason: str

    @property
    def label(self) -> str:
        return fact_label(self.field)

    @property
    def old_shown(self) -> str:
        return shown(self.field, self.old_value)

    @property
    def new_shown(self) -> str:
        return shown(self.field, self.new_value)


def _facts(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in FACT_FIELDS}


def correction_check(case: Case, *, field: object, value: object, reason: object, today: date) -> CorrectionDraft:
    """Check a correction without saving it: the fact may be corrected, the value is one of its type and differs from
    the case's, and there is a reason. Every problem is named at once (ValidationFailed: `field`, `value`,
    `reason`)."""
    errors: dict[str, str] = {}
    name: str | None = None
    new: Any = None
    try:
        name = check_field(field)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if name is not None:
        try:
            new = fact_value(name, value, today=today, facts=_facts(case))
        except ValidationFailed as exc:
            errors.update(exc.errors)
        else:
            current = getattr(case, name)
            if to_json(current) == to_json(new) and type(current) is type(new):
                errors["value"] = (
                    f"{fact_label(name)} is already {shown(name, to_json(current))}: enter the correct value"
                )
    try:
        text = reason_text(reason)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    assert name is not None
    return CorrectionDraft(field=name, old_value=to_json(getattr(case, name)), new_value=to_json(new), reason=text)


def case_fact_correct(
    session: Session,
    *,
    case: Case,
    field: object,
    value: object,
    reason: object,
    actor: User,
    expected_version: int | None,
    today: date,
) -> CaseFactCorrection:
    """Correct one fact of a case, for a reason, against the case version the form or request read (Conflict if
    someone changed the case since). A fact corrected again keeps what the case system said the first time, so later
    imports are weighed against that; the earlier correction is superseded by this one."""
    draft = correction_check(case, field=field, value=value, reason=reason, today=today)
    claim_version(
        session, case, expected_version, stale=STALE, **{draft.field: from_json(draft.field, draft.new_value)}
    )
    assert case.id is not None and actor.id is not None
    previous = correction_in_force(session, case_id=case.id, field=draft.field)
    now = clock.now()
    correction = CaseFactCorrection(
        case_id=case.id,
        field=draft.field,
        old_value=draft.old_value,
        new_value=draft.new_value,
        source_value=previous.source_value if previous is not None else draft.old_value,
        reason=draft.reason,
        corrected_by_id=actor.id,
        corrected_at=now,
    )
    session.add(correction)
    session.flush()
    if previous is not None:
        previous.superseded_at = now
        previous.superseded_by_correction_id = correction.id
        session.add(previous)
        session.flush()
    audit_record(
        session,
        actor=actor,
        action="case.correct",
        summary=f"Corrected {draft.label.lower()} of the case of child {case.child_id}: "
        f"{draft.old_shown} to {draft.new_shown}",
        entity_type="case",
        entity_id=case.id,
        before={"field": draft.field, "value": draft.old_value},
        after={
            "field": draft.field,
            "value": draft.new_value,
            "reason": draft.reason[:500],
            "correction_id": correction.id,
        },
    )
    return correction


@dataclass(frozen=True)
class Superseded:
    """A correction an import's value replaced: which, on which case, and the value the import brought (JSON)."""

    pin: Pin
    case_id: int
    child_id: str
    imported: Any


def corrections_supersede(
    session: Session, items: Sequence[Superseded], *, case_import: CaseImport, actor: User | None, at: datetime
) -> None:
    """Mark corrections superseded by an import that brought another value for their fact (in the import's
    transaction), each with an audit-trail event about its case."""
    if not items:
        return
    session.execute(
        update(CaseFactCorrection)
        .where(col(CaseFactCorrection.id).in_([item.pin.id for item in items]))
        .values(superseded_at=at, superseded_by_import_id=case_import.id)
        .execution_options(synchronize_session=False)
    )
    for item in items:
        label = fact_label(item.pin.field)
        audit_record(
            session,
            actor=actor,
            action="case.correction_superseded",
            summary=f"Import {case_import.id} brought {shown(item.pin.field, item.imported)} as "
            f"{label.lower()} of the case of child {item.child_id}: the correction to "
            f"{shown(item.pin.field, item.pin.new_value)} no longer holds",
            entity_type="case",
            entity_id=item.case_id,
            before={"field": item.pin.field, "value": item.pin.new_value, "correction_id": item.pin.id},
            after={"field": item.pin.field, "value": item.imported, "import_id": case_import.id},
        )
