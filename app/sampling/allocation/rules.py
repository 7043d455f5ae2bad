"""Allocating sampled cases to auditors: pure, reproducible functions used by the UI and the API.

- Only auditors with current auditor training may audit; the record's note ("auditor training expired on
  3 Mar 2026") is shown wherever that blocks an allocation.
- Conflict of interest: never the case's allocated worker or team manager nor anyone in the case's team. The
  worker and manager are people by identity: the account the case is linked to (`app.cases.people`). Only a worker
  or manager the register has not linked to an account is recognised by name (compared ignoring case, repeated
  and non-breaking spaces, as real extracts carry them), so that an unlinked name still blocks its namesake.
- Balance: each auditor's load in the cycle (audits already held plus new ones) is kept level. The most
  constrained cases (fewest eligible auditors) are placed first, each with the eligible auditor holding the
  fewest; ties go by a shuffle seeded from the cycle's seed, so the same inputs and seed give the same
  proposal. A last pass hands cases along chains of eligible auditors until no auditor holds two or more
  audits more than anyone they could hand one to, directly or through others: then the loads are as level
  as the conflicts allow (with no conflicts, within one of each other unless some already held more).
- A case nobody may audit is reported with the child's ID and why, never silently dropped.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from app.cases.cleaning import normalise_person_name

# How many auditors without current training an explanation names before "and N more".
_NAMED_UNTRAINED = 3


@dataclass(frozen=True)
class AuditorInfo:
    """An auditor as allocation sees them; `load` is the audits they already hold in this cycle."""

    id: int
    name: str
    team_id: int | None
    training_current: bool
    training_note: str | None  # why training is not current, e.g. "no auditor training recorded"
    load: int = 0


@dataclass(frozen=True)
class CaseInfo:
    """A sampled case with the people and team that decide who may not audit it."""

    id: int
    child_id: str
    team_id: int | None
    team_name: str | None
    worker_name: str | None
    manager_name: str | None
    worker_user_id: int | None = None  # the accounts the case is linked to; None: not linked (the name decides)
    manager_user_id: int | None = None


@dataclass(frozen=True)
class AllocationProposal:
    """What the QA lead reviews before confirming: who audits what, what could not be placed, final loads."""

    assignments: dict[int, int]  # case id -> auditor id
    unallocated: dict[int, str]  # case id -> why no auditor may take it, naming the child
    loads: dict[int, int]  # auditor id -> audits held in the cycle once this proposal is confirmed


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


_T = TypeVar("_T", bound=_HasId)


def _by_id(items: Iterable[_T], what: str) -> dict[int, _T]:
    found: dict[int, _T] = {}
    for item in items:
        if item.id in found:
            raise ValueError(f"{what} #{item.id} is listed twice")
        found[item.id] = item
    return found


def _same_person(first: str | None, second: str | None) -> bool:
    a, b = normalise_person_name(first), normalise_person_name(second)
    return a is not None and b is not None and a.casefold() == b.casefold()


def _training_reason(auditor: AuditorInfo) -> str | None:
    if auditor.training_current:
        return None
    return auditor.training_note or "has no current auditor training"


def _is(auditor: AuditorInfo, user_id: int | None, name: str | None) -> bool:
    """Whether the auditor is this person of the case: by account when the case is linked to one, else by name."""
    return auditor.id == user_id if user_id is not None else _same_person(auditor.name, name)


def _role_conflicts(auditor: AuditorInfo, case: CaseInfo) -> list[str]:
    reasons = []
    if _is(auditor, case.worker_user_id, case.worker_name):
        reasons.append("is the allocated worker")
    if _is(auditor, case.manager_user_id, case.manager_name):
        reasons.append("is the team manager")
    if case.team_id is not None and auditor.team_id == case.team_id:
        reasons.append(f"is in the case's team ({case.team_name})" if case.team_name else "is in the case's team")
    return reasons


def conflict_reasons(auditor: AuditorInfo, case: CaseInfo) -> list[str]:
    """Why this auditor may not audit this case, in plain English; empty when they may."""
    training = _training_reason(auditor)
    return ([training] if training else []) + _role_conflicts(auditor, case)


def _why_nobody(case: CaseInfo, auditors: Sequence[AuditorInfo]) -> str:
    """The QA lead's explanation for a case no auditor may take."""
    if not auditors:
        return f"Child {case.child_id}: there are no auditors to allocate to"
    parts = []
    trained = [a for a in auditors if a.training_current]
    if trained:
        seen = {reason: None for a in trained for reason in _role_conflicts(a, case)}  # ordered, distinct
        parts.append("every trained auditor " + " or ".join(seen))
    else:
        parts.append("no auditor has current auditor training")
    untrained = [a for a in auditors if not a.training_current]
    if untrained and trained:
        named = "; ".join(f"{a.name}: {_training_reason(a)}" for a in untrained[:_NAMED_UNTRAINED])
        more = len(untrained) - _NAMED_UNTRAINED
        if more > 0:
            named += f"; and {more} more"
        count = f"{len(untrained)} auditor{'s have' if len(untrained) > 1 else ' has'}"
        parts.append(f"{count} no current auditor training ({named})")
    return f"Child {case.child_id}: " + "; ".join(parts)


def _cost_reducing_path(
    start: int, assignments: Mapping[int, int], eligible: Mapping[int, list[int]], loads: Mapping[int, int]
) -> list[tuple[int, int]] | None:
    """Moves (case id, new auditor id) that pass one audit from `start` along a chain of eligible auditors to
    one holding at least two fewer; None when there is no such chain (breadth first, so the shortest)."""
    held: dict[int, list[int]] = {}
    for case_id, auditor_id in sorted(assignments.items()):
        held.setdefault(auditor_id, []).append(case_id)
    came_from: dict[int, tuple[int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for case_id in held.get(current, []):
            for other in eligible[case_id]:
                if other in came_from:
                    continue
                came_from[other] = (current, case_id)
                if loads[other] <= loads[start] - 2:
                    moves, step = [], other
                    while (link := came_from[step]) is not None:
                        moves.append((link[1], step))
                        step = link[0]
                    return moves
                queue.append(other)
    return None


def _level(
    assignments: dict[int, int], eligible: Mapping[int, list[int]], loads: dict[int, int], rank: Mapping[int, int]
) -> None:
    """Even out the loads as far as the conflicts allow, in place.

    An allocation with no chain of moves from an auditor to one holding two or more fewer is as level as it
    can be (it minimises the sum of squared loads: Harvey et al., "Semi-matchings for bipartite graphs and
    load balancing", 2006). Each chain lowers that sum, so this stops.
    """
    while True:
        for start in sorted(loads, key=lambda a: (-loads[a], rank[a])):
            if moves := _cost_reducing_path(start, assignments, eligible, loads):
                break
        else:
            return
        for case_id, new_auditor in moves:
            assignments[case_id] = new_auditor
        loads[start] -= 1
        loads[moves[0][1]] += 1


def propose_allocation(cases: Sequence[CaseInfo], auditors: Sequence[AuditorInfo], *, seed: int) -> AllocationProposal:
    """A conflict-free, balanced allocation the QA lead can review; the same inputs and seed give the same one."""
    case_by_id = _by_id(cases, "Case")
    pool = sorted(_by_id(auditors, "Auditor").values(), key=lambda a: a.id)
    order = [a.id for a in pool]
    random.Random(f"{seed}:allocation").shuffle(order)
    rank = {auditor_id: position for position, auditor_id in enumerate(order)}
    loads = {a.id: a.load for a in pool}

    eligible = {c.id: [a.id for a in pool if not conflict_reasons(a, c)] for c in case_by_id.values()}
    assignments: dict[int, int] = {}
    unallocated: dict[int, str] = {}
    for case_id in sorted(eligible, key=lambda c: (len(eligible[c]), c)):
        if not eligible[case_id]:
            unallocated[case_id] = _why_nobody(case_by_id[case_id], pool)
            continue
        chosen = min(eligible[case_id], key=lambda a: (loads[a], rank[a]))
        assignments[case_id] = chosen
        loads[chosen] += 1
    _level(assignments, eligible, loads, rank)
    return AllocationProposal(assignments=dict(sorted(assignments.items())), unallocated=unallocated, loads=loads)


def check_allocation(
    assignments: Mapping[int, int], cases: Sequence[CaseInfo], auditors: Sequence[AuditorInfo]
) -> dict[int, str]:
    """Re-check a QA lead's edited allocation: case id -> why that auditor may not take it (empty when all may)."""
    case_by_id = _by_id(cases, "Case")
    auditor_by_id = _by_id(auditors, "Auditor")
    problems: dict[int, str] = {}
    for case_id, auditor_id in sorted(assignments.items()):
        case = case_by_id.get(case_id)
        auditor = auditor_by_id.get(auditor_id)
        if case is None:
            problems[case_id] = f"Case #{case_id} is not in this sample"
        elif auditor is None:
            problems[case_id] = f"Child {case.child_id}: auditor #{auditor_id} is not in the auditor pool"
        elif reasons := conflict_reasons(auditor, case):
            problems[case_id] = f"Child {case.child_id}: {auditor.name} cannot audit this case ({'; '.join(reasons)})"
    return problems
