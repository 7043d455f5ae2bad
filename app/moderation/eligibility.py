"""Who may moderate an audit, and who gets it: pure, reproducible rules with no session.

A moderator must be an active user with the moderator role and a current moderator training record, and is
never the audit's auditor, never in the case's team, and never the case's allocated worker or team manager
(names compared as allocation compares them: ignoring case and repeated or non-breaking spaces).

Allocation is balanced: the eligible moderator with the fewest open (not yet decided) rounds gets the audit;
ties go by a hash of the audit, its round and each moderator's id, so the same inputs always give the same
moderator, and a run of ties does not always land on the same person. A resubmitted audit goes back to the
moderator who returned it if they are still eligible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.cases.cleaning import normalise_person_name


@dataclass(frozen=True)
class ModeratorInfo:
    """A possible moderator as the rules see them; `open_rounds` is how many undecided rounds they hold."""

    id: int
    name: str
    team_id: int | None
    active: bool = True
    is_moderator: bool = True
    training_current: bool = True
    training_note: str | None = None  # why training is not current, e.g. "moderator training expired on 3 Mar 2026"
    open_rounds: int = 0


@dataclass(frozen=True)
class AuditParties:
    """The people and team that decide who may not moderate one audit."""

    audit_id: int
    auditor_id: int
    case_team_id: int | None
    case_team_name: str | None = None
    worker_name: str | None = None
    manager_name: str | None = None


def _same_person(first: str | None, second: str | None) -> bool:
    a, b = normalise_person_name(first), normalise_person_name(second)
    return a is not None and b is not None and a.casefold() == b.casefold()


def ineligibility_reasons(moderator: ModeratorInfo, parties: AuditParties) -> list[str]:
    """Why this person may not moderate this audit, in plain English; empty when they may."""
    reasons = []
    if not moderator.active:
        reasons.append("is not an active user")
    if not moderator.is_moderator:
        reasons.append("does not have the moderator role")
    if not moderator.training_current:
        reasons.append(moderator.training_note or "has no current moderator training")
    if moderator.id == parties.auditor_id:
        reasons.append("is the auditor")
    if parties.case_team_id is not None and moderator.team_id == parties.case_team_id:
        reasons.append(
            f"works in the case's team ({parties.case_team_name})"
            if parties.case_team_name
            else "works in the case's team"
        )
    if _same_person(moderator.name, parties.worker_name):
        reasons.append("is the case's allocated worker")
    if _same_person(moderator.name, parties.manager_name):
        reasons.append("is the case's team manager")
    return reasons


def eligible(moderator: ModeratorInfo, parties: AuditParties) -> bool:
    return not ineligibility_reasons(moderator, parties)


def _tie_break(parties: AuditParties, round: int, moderator_id: int) -> str:
    return hashlib.sha256(f"{parties.audit_id}:{round}:{moderator_id}".encode()).hexdigest()


def choose_moderator(
    candidates: Iterable[ModeratorInfo], parties: AuditParties, *, round: int, prefer_id: int | None = None
) -> ModeratorInfo | None:
    """The moderator for this round: `prefer_id` if eligible, else the eligible one with the fewest open rounds
    (ties broken reproducibly); None when nobody is eligible."""
    allowed = [m for m in candidates if eligible(m, parties)]
    if prefer_id is not None:
        preferred = next((m for m in allowed if m.id == prefer_id), None)
        if preferred is not None:
            return preferred
    if not allowed:
        return None
    return min(allowed, key=lambda m: (m.open_rounds, _tie_break(parties, round, m.id), m.id))


def why_nobody(candidates: Sequence[ModeratorInfo], parties: AuditParties) -> list[tuple[str, list[str]]]:
    """For the QA lead when no moderator is eligible: each candidate's name with why they may not moderate."""
    return [(m.name, ineligibility_reasons(m, parties)) for m in candidates if ineligibility_reasons(m, parties)]
