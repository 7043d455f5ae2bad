"""Who a case's worker and team manager are, by identity: never by a display name alone.

The register holds what the extract says: the worker's name and, where the case management system exports it,
the worker's identifier (`Case.worker_id`). The QA lead maps each worker to a user account (`WorkerLink`): by the
identifier when there is one, otherwise by the name within the case's team (a name is one person only inside one
team). A case's `worker_user_id` follows that mapping and its `manager_user_id` follows the team's manager
(`Team.manager_id`); `people_resolve` keeps both true after an import, a mapping change or a team change. An
unmapped worker, or a name that two accounts in the team share, gives nobody access.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case as when
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.accounts.models import Team, User, UserRole
from app.accounts.roles import Role
from app.audit_trail.service import audit_record
from app.cases.cleaning import normalise_person_name
from app.cases.models import Case, WorkerLink
from app.errors import NotFound, ValidationFailed

# --- Pure -------------------------------------------------------------------------------------


def name_key(name: str | None) -> str | None:
    """A name as compared: spaces folded, case ignored; None for a blank."""
    folded = normalise_person_name(name)
    return folded.casefold() if folded else None


def worker_key(worker_id: str | None, team_id: int | None, worker_name: str | None) -> str | None:
    """How the register identifies a case's worker: the case system's identifier, or the name within the team."""
    if worker_id and worker_id.strip():
        return f"id:{worker_id.strip()}"
    name = name_key(worker_name)
    if name and team_id is not None:
        return f"name:{team_id}:{name}"
    return None


# --- Reads ------------------------------------------------------------------------------------


@dataclass
class Candidate:
    id: int
    full_name: str
    username: str
    team_id: int | None


@dataclass
class RegisterWorker:
    """One worker as the register knows them, with what they are mapped to and who they might be."""

    key: str
    worker_id: str | None
    name: str | None
    team_id: int | None
    team_name: str | None
    open_cases: int
    cases: int
    user: Candidate | None = None  # the mapped account
    candidates: list[Candidate] = field(default_factory=list)  # practitioners with the same name in the team

    @property
    def state(self) -> str:
        if self.user is not None:
            return "mapped"
        return "ambiguous" if len(self.candidates) > 1 else "unmapped"


def _practitioners(session: Session) -> list[Candidate]:
    stmt = (
        select(User.id, User.full_name, User.username, User.team_id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(col(User.active).is_(True), UserRole.role == Role.PRACTITIONER.value)
        .order_by(User.full_name, User.id)
    )
    return [Candidate(*row) for row in session.execute(stmt).all()]


def register_workers(session: Session) -> list[RegisterWorker]:
    """Every worker the register names, with their cases, mapping and same-named practitioners in their team."""
    stmt = (
        select(
            Case.worker_id,
            Case.team_id,
            Case.worker_name,
            Team.name,
            func.count(),
            func.sum(when((Case.status == "open", 1), else_=0)),
        )
        .join(Team, Team.id == Case.team_id, isouter=True)
        .where((col(Case.worker_id).is_not(None)) | (col(Case.worker_name).is_not(None)))
        .group_by(Case.worker_id, Case.team_id, Case.worker_name, Team.name)
    )
    links = {link.link_key: link.user_id for link in session.execute(select(WorkerLink)).scalars()}
    people = _practitioners(session)
    by_id = {p.id: p for p in people}
    by_name: dict[tuple[int | None, str], list[Candidate]] = defaultdict(list)
    for person in people:
        key = name_key(person.full_name)
        if key:
            by_name[(person.team_id, key)].append(person)
    found: dict[str, RegisterWorker] = {}
    for worker_id, team_id, name, team_name, cases, open_cases in session.execute(stmt).all():
        key = worker_key(worker_id, team_id, name)
        if key is None:
            continue
        row = found.get(key)
        if row is None:
            mapped_id = links.get(key)
            row = found[key] = RegisterWorker(
                key=key,
                worker_id=worker_id,
                name=name,
                team_id=team_id,
                team_name=team_name,
                open_cases=0,
                cases=0,
                user=by_id.get(mapped_id) if mapped_id else None,
                candidates=list(by_name.get((team_id, name_key(name) or ""), [])),
            )
        row.cases += cases
        row.open_cases += open_cases or 0
    return sorted(found.values(), key=lambda w: ({"ambiguous": 0, "unmapped": 1}.get(w.state, 2), w.name or ""))


def practitioners(session: Session) -> list[Candidate]:
    """Active practitioners, for the mapping page's choices."""
    return _practitioners(session)


# --- Writes -----------------------------------------------------------------------------------


def people_resolve(session: Session, *, team_id: int | None = None, worker_id: str | None = None) -> None:
    """Set cases' worker and manager accounts from the mapping and the teams' managers (one pass): every case, or
    only one team's (a team or a name mapping changed), or only one worker ID's (an ID mapping changed)."""
    narrow = []
    if team_id is not None:
        narrow.append(col(Case.team_id) == team_id)
    if worker_id is not None:
        narrow.append(col(Case.worker_id) == worker_id)
    links = {link.link_key: link.user_id for link in session.execute(select(WorkerLink)).scalars()}
    combos = session.execute(
        select(Case.worker_id, Case.team_id, Case.worker_name, Case.worker_user_id).where(*narrow).distinct()
    ).all()
    for combo_worker_id, combo_team_id, name, current in combos:
        target = links.get(worker_key(combo_worker_id, combo_team_id, name) or "")
        if target == current:
            continue
        session.execute(
            update(Case)
            .where(
                col(Case.worker_id).is_not_distinct_from(combo_worker_id),
                col(Case.team_id).is_not_distinct_from(combo_team_id),
                col(Case.worker_name).is_not_distinct_from(name),
            )
            .values(worker_user_id=target)
            .execution_options(synchronize_session=False)
        )
    manager = select(Team.manager_id).where(Team.id == Case.team_id).scalar_subquery()
    session.execute(
        update(Case)
        .where(col(Case.manager_user_id).is_distinct_from(manager), *narrow)
        .values(manager_user_id=manager)
        .execution_options(synchronize_session=False)
    )


def _key_scope(key: str) -> tuple[int | None, str | None] | None:
    """The cases a mapping key can reach, as people_resolve's (team_id, worker_id): one team's names, or one worker
    ID; None for a key that is not one this service makes."""
    kind, _, rest = key.partition(":")
    if kind == "id" and rest:
        return None, rest
    team, _, name = rest.partition(":")
    if kind == "name" and team.isascii() and team.isdigit() and name:
        return int(team), None
    return None


def worker_link_set(session: Session, *, key: str, user_id: int, actor: User | None) -> WorkerLink:
    """Map a worker to an account (replacing any earlier mapping); the cases follow at once."""
    user = session.get(User, user_id)
    if user is None or not user.active or not user.has_role(Role.PRACTITIONER):
        raise ValidationFailed({"user_id": "Choose the worker's account from the list of active practitioners"})
    scope = _key_scope(key)
    if scope is None or len(key) > 200:
        raise NotFound("There is no such worker in the register.")
    link = session.execute(select(WorkerLink).where(WorkerLink.link_key == key)).scalar_one_or_none()
    before = {"user_id": link.user_id} if link else None
    if link is None:
        link = WorkerLink(link_key=key, user_id=user_id, created_by_id=actor.id if actor else None)
    else:
        link.user_id = user_id
    session.add(link)
    session.flush()
    people_resolve(session, team_id=scope[0], worker_id=scope[1])
    audit_record(
        session,
        actor=actor,
        action="worker.map",
        summary=f"Mapped a worker in the register to {user.full_name}",
        entity_type="worker_link",
        entity_id=link.id,
        before=before,
        after={"user_id": user_id},
    )
    return link


def worker_link_remove(session: Session, *, key: str, actor: User | None) -> None:
    """Remove a worker's mapping: their cases have no worker account until mapped again."""
    link = session.execute(select(WorkerLink).where(WorkerLink.link_key == key)).scalar_one_or_none()
    if link is None:
        raise NotFound("That worker is not mapped to anyone.")
    before = {"user_id": link.user_id}
    link_id = link.id
    session.delete(link)
    session.flush()
    team_id, worker_id = _key_scope(key) or (None, None)
    people_resolve(session, team_id=team_id, worker_id=worker_id)
    audit_record(
        session,
        actor=actor,
        action="worker.unmap",
        summary="Removed a worker's mapping to a user account",
        entity_type="worker_link",
        entity_id=link_id,
        before=before,
    )


def links_from_names(session: Session) -> tuple[int, list[str]]:
    """Map each named worker (without an identifier) to the one active practitioner of that name in the case's
    team; returns how many were mapped and the keys left for the QA lead (no such account, or more than one)."""
    workers = register_workers(session)
    mapped, left = 0, []
    for worker in workers:
        if worker.user is not None or worker.worker_id:
            continue
        if len(worker.candidates) == 1:
            session.add(WorkerLink(link_key=worker.key, user_id=worker.candidates[0].id))
            mapped += 1
        else:
            left.append(worker.key)
    session.flush()
    people_resolve(session)
    return mapped, left


__all__ = [
    "Candidate",
    "RegisterWorker",
    "links_from_names",
    "name_key",
    "people_resolve",
    "practitioners",
    "register_workers",
    "worker_key",
    "worker_link_remove",
    "worker_link_set",
]
