"""Reading a case's corrections: its history (newest first, as people read it), and the corrections in force that an
import weighs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.models import User
from app.cases.corrections.rules import Pin, fact_label, shown
from app.cases.models import Case, CaseFactCorrection


@dataclass(frozen=True)
class CorrectionRow:
    """One correction as the case page and the API show it."""

    correction: CaseFactCorrection
    label: str  # the fact, as people read it
    old_shown: str
    new_shown: str
    corrected_by: User | None

    @property
    def superseded_by(self) -> Literal["import", "correction"] | None:
        """What ended the correction: "import" (it brought another value), "correction" (a later one), or None."""
        c = self.correction
        if c.superseded_at is None:
            return None
        return "import" if c.superseded_by_import_id is not None else "correction"


def corrections_of(session: Session, *, case_id: int) -> list[CaseFactCorrection]:
    """A case's corrections, newest first."""
    return list(
        session.execute(
            select(CaseFactCorrection)
            .where(col(CaseFactCorrection.case_id) == case_id)
            .order_by(col(CaseFactCorrection.corrected_at).desc(), col(CaseFactCorrection.id).desc())
        ).scalars()
    )


def correction_in_force(session: Session, *, case_id: int, field: str) -> CaseFactCorrection | None:
    """The correction of this fact of this case that holds now, if any (there is at most one)."""
    return session.execute(
        select(CaseFactCorrection)
        .where(
            col(CaseFactCorrection.case_id) == case_id,
            col(CaseFactCorrection.field) == field,
            col(CaseFactCorrection.superseded_at).is_(None),
        )
        .order_by(col(CaseFactCorrection.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def corrections_in_force(session: Session, *, case_ids: Sequence[int]) -> dict[int, list[Pin]]:
    """The corrections that hold now on these cases, by case id: what an import weighs its values against."""
    if not case_ids:
        return {}
    pins: dict[int, list[Pin]] = defaultdict(list)
    rows = session.execute(
        select(
            col(CaseFactCorrection.id),
            col(CaseFactCorrection.case_id),
            col(CaseFactCorrection.field),
            col(CaseFactCorrection.source_value),
            col(CaseFactCorrection.new_value),
        )
        .where(col(CaseFactCorrection.case_id).in_(case_ids), col(CaseFactCorrection.superseded_at).is_(None))
        .order_by(col(CaseFactCorrection.id))
    )
    for correction_id, case_id, field, source_value, new_value in rows:
        pins[case_id].append(Pin(id=correction_id, field=field, source_value=source_value, new_value=new_value))
    return dict(pins)


def correction_rows(session: Session, corrections: Iterable[CaseFactCorrection]) -> list[CorrectionRow]:
    """The corrections with who made them, as people read them."""
    corrections = list(corrections)
    user_ids = {c.corrected_by_id for c in corrections}
    users = (
        {u.id: u for u in session.execute(select(User).where(col(User.id).in_(user_ids))).scalars()} if user_ids else {}
    )
    return [
        CorrectionRow(
            correction=c,
            label=fact_label(c.field),
            old_shown=shown(c.field, c.old_value),
            new_shown=shown(c.field, c.new_value),
            corrected_by=users.get(c.corrected_by_id),
        )
        for c in corrections
    ]


def correction_history(session: Session, case: Case) -> list[CorrectionRow]:
    """A case's corrections, newest first, as the case page shows them."""
    return [] if case.id is None else correction_rows(session, corrections_of(session, case_id=case.id))
