"""Legal holds: the QA lead keeps a case (and everything about it) past its retention period, for a reason (a
complaint, litigation, an inquiry), until the hold is lifted, for a reason too. The retention run
(`app.retention.run`) leaves every case in `held_case_ids` alone.

    hold_place          put a case on hold (one active hold per case; the reason is required)
    hold_lift           lift an active hold (once: of two lifts at once, exactly one succeeds)
    held_case_ids       the cases on hold now: what the retention run must keep
    case_hold           a case's active hold, or None
    holds_page          the list of holds, active ones first, optionally only active or only lifted ones
    hold_rows           holds as pages and the API show them: with the child and the people named

The rules for a reason are plain functions (`reason_problem`, `reason_cleaned`). Who may place and lift holds is
`LEGAL_HOLD_ROLES` (the QA lead), read by the routes' guard and the navigation alike. Every place and lift is an
audit-trail event about the case (`legal_hold.place`, `legal_hold.lift`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Select, select, update
from sqlmodel import Session, col

from app import clock
from app.accounts import selectors as account_selectors
from app.accounts.models import User
from app.accounts.roles import Role
from app.audit_trail.service import audit_record
from app.cases.models import Case, LegalHold
from app.db import valid_row_id
from app.errors import Conflict, ValidationFailed
from app.pagination import Page, paginate

LEGAL_HOLD_ROLES: tuple[Role, ...] = (Role.QA_LEAD,)

REASON_FIELD = "reason"
REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 2000

PLACING = "place"
LIFTING = "lift"
_WHY = {
    PLACING: "Enter why the case is being put on legal hold",
    LIFTING: "Enter why the legal hold is being lifted",
}

ACTIVE = "active"
LIFTED = "lifted"
STATUS_LABELS = {ACTIVE: "On hold", LIFTED: "Lifted"}

NOT_FOUND = "There is no legal hold with that number."
NOT_FOUND_API = "Legal hold {id} not found"
REMOVED_CASE = "(case removed)"


# --- Rules (pure) ----------------------------------------------------------------------------------------------


def reason_cleaned(raw: object) -> str:
    """The reason as it is kept: NULs removed, blank lines and spaces around it trimmed (line breaks inside it
    kept: a reason may quote a letter). Anything that is not text reads as blank."""
    if not isinstance(raw, str):
        return ""
    return raw.replace("\x00", "").strip()


def reason_problem(reason: str, *, action: str) -> str | None:
    """What is wrong with a (cleaned) reason for placing (`PLACING`) or lifting (`LIFTING`) a hold, or None."""
    if not reason:
        return _WHY[action]
    if len(reason) < REASON_MIN_LENGTH:
        return f"The reason must be {REASON_MIN_LENGTH} characters or more"
    if len(reason) > REASON_MAX_LENGTH:
        return f"The reason must be {REASON_MAX_LENGTH:,} characters or fewer"
    return None


def reason_checked(raw: object, *, action: str) -> str:
    """The cleaned reason, or ValidationFailed naming the `reason` field."""
    reason = reason_cleaned(raw)
    problem = reason_problem(reason, action=action)
    if problem:
        raise ValidationFailed({REASON_FIELD: problem})
    return reason


def hold_status(hold: LegalHold) -> str:
    return ACTIVE if hold.lifted_at is None else LIFTED


# --- Reads ------------------------------------------------------------------------------------------------------


def held_cases() -> Select[tuple[int]]:
    """A query of the ids of every case on legal hold now (an active hold): the retention run removes and anonymises
    none of them, nor anything about them (it uses this as a subquery)."""
    return select(col(LegalHold.case_id)).where(col(LegalHold.lifted_at).is_(None))


def held_case_ids(session: Session) -> set[int]:
    """The ids of every case on legal hold now."""
    return set(session.execute(held_cases()).scalars())


def case_hold(session: Session, case_id: int | None) -> LegalHold | None:
    """The case's active legal hold, or None."""
    if not valid_row_id(case_id):
        return None
    return (
        session.execute(
            select(LegalHold)
            .where(col(LegalHold.case_id) == case_id, col(LegalHold.lifted_at).is_(None))
            .order_by(col(LegalHold.placed_at).desc(), col(LegalHold.id).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def hold_get(session: Session, hold_id: int | None) -> LegalHold | None:
    """One hold, active or lifted, or None (also for an id no row can have)."""
    return session.get(LegalHold, hold_id) if valid_row_id(hold_id) else None


def holds_page(
    session: Session,
    *,
    status: str | None = None,
    page: int | None = 1,
    page_size: int | None = None,
    clamp_to_last: bool = False,
) -> Page[LegalHold]:
    """Every legal hold, active ones first, then the newest first; only the active or only the lifted ones when
    `status` says so (anything else: all)."""
    lifted = col(LegalHold.lifted_at).is_not(None)
    stmt = select(LegalHold).order_by(lifted, col(LegalHold.placed_at).desc(), col(LegalHold.id).desc())
    if status == ACTIVE:
        stmt = stmt.where(col(LegalHold.lifted_at).is_(None))
    elif status == LIFTED:
        stmt = stmt.where(lifted)
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


@dataclass(frozen=True)
class HoldRow:
    """A hold as pages and the API show it: the child and the people by name."""

    hold: LegalHold
    child_id: str
    placed_by_name: str
    lifted_by_name: str

    @property
    def status(self) -> str:
        return hold_status(self.hold)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def hold_rows(session: Session, *, holds: Iterable[LegalHold]) -> list[HoldRow]:
    """The holds with their child IDs and the names of who placed and lifted them, in three queries at most."""
    holds = list(holds)
    case_ids = {h.case_id for h in holds}
    children = (
        dict(session.execute(select(col(Case.id), col(Case.child_id)).where(col(Case.id).in_(case_ids))).tuples().all())
        if case_ids
        else {}
    )
    names = account_selectors.user_names(session, user_ids=[i for h in holds for i in (h.placed_by_id, h.lifted_by_id)])
    return [
        HoldRow(
            hold=h,
            child_id=children.get(h.case_id, REMOVED_CASE),
            placed_by_name=names.get(h.placed_by_id, "") if h.placed_by_id is not None else "",
            lifted_by_name=names.get(h.lifted_by_id, "") if h.lifted_by_id is not None else "",
        )
        for h in holds
    ]


def hold_row(session: Session, hold: LegalHold) -> HoldRow:
    (row,) = hold_rows(session, holds=[hold])
    return row


def case_hold_row(session: Session, *, case_id: int | None) -> HoldRow | None:
    """The case's active hold as the case page shows it, or None."""
    hold = case_hold(session, case_id)
    return hold_row(session, hold) if hold is not None else None


# --- Changes ----------------------------------------------------------------------------------------------------


def already_held_message(session: Session, hold: LegalHold) -> str:
    row = hold_row(session, hold)
    who = f", placed by {row.placed_by_name}" if row.placed_by_name else ""
    return f"The case of child {row.child_id} is already on legal hold{who}. Nothing was changed."


def already_lifted_message(session: Session, hold: LegalHold) -> str:
    row = hold_row(session, hold)
    who = f" by {row.lifted_by_name}" if row.lifted_by_name else ""
    return f"This legal hold has already been lifted{who}. Nothing was changed."


def hold_place(session: Session, *, case: Case, reason: str, actor: User) -> LegalHold:
    """Put `case` on legal hold for `reason` (required, 10 to 2,000 characters: ValidationFailed naming `reason`).
    A case already on hold is refused (Conflict): one active hold per case. Two placings at once take turns on the
    case's row (PostgreSQL: SELECT ... FOR UPDATE; SQLite's writers take turns already), so the second sees the
    first's hold and is refused."""
    assert case.id is not None
    cleaned = reason_checked(reason, action=PLACING)
    session.execute(select(col(Case.id)).where(col(Case.id) == case.id).with_for_update())
    existing = case_hold(session, case.id)
    if existing is not None:
        raise Conflict(already_held_message(session, existing))
    hold = LegalHold(case_id=case.id, reason=cleaned, placed_by_id=actor.id, placed_at=clock.now())
    session.add(hold)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="legal_hold.place",
        summary=f"Put the case of child {case.child_id} on legal hold (hold {hold.id})",
        entity_type="case",
        entity_id=case.id,
        after={"reason": cleaned},
    )
    return hold


def hold_lift(session: Session, *, hold: LegalHold, reason: str, actor: User) -> LegalHold:
    """Lift an active hold for `reason` (required, as for placing one). Once lifted it stays lifted: lifting it
    again is refused (Conflict), and of two lifts at once exactly one succeeds (one conditional UPDATE ... WHERE
    lifted_at IS NULL; the other matches no row)."""
    assert hold.id is not None
    cleaned = reason_checked(reason, action=LIFTING)
    result = session.execute(
        update(LegalHold)
        .where(col(LegalHold.id) == hold.id, col(LegalHold.lifted_at).is_(None))
        .values(lifted_at=clock.now(), lifted_by_id=actor.id, lifted_reason=cleaned)
        .execution_options(synchronize_session=False)
    )
    session.refresh(hold)
    if cast("CursorResult[Any]", result).rowcount != 1:
        raise Conflict(already_lifted_message(session, hold))
    child_id = session.execute(select(col(Case.child_id)).where(col(Case.id) == hold.case_id)).scalar_one_or_none()
    audit_record(
        session,
        actor=actor,
        action="legal_hold.lift",
        summary=f"Lifted the legal hold (hold {hold.id}) on the case of child {child_id or REMOVED_CASE}",
        entity_type="case",
        entity_id=hold.case_id,
        after={"reason": cleaned},
    )
    return hold
