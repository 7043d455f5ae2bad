"""Reads for accounts: users, teams, service areas, training."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, or_, select
from sqlmodel import Session

from app.accounts.models import ServiceArea, Team, TrainingRecord, User, UserRole
from app.accounts.roles import TrainingKind
from app.accounts.schemas import TeamPublic, TrainingPublic, TrainingStatus, UserPublic, normalise_name
from app.db import valid_row_id
from app.pagination import Page, paginate


def user_get(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id) if valid_row_id(user_id) else None


def user_names(session: Session, *, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Full names by user id, in one query (ids that are None or unknown are left out)."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(wanted))).tuples().all())


def user_by_username(session: Session, *, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).unique().scalar_one_or_none()


def users_page(
    session: Session,
    *,
    q: str | None = None,
    role: str | None = None,
    team_id: int | None = None,
    active: bool | None = None,
    page: int | None = 1,
    page_size: int | None = None,
    clamp_to_last: bool = False,
) -> Page[User]:
    """Users matching the filters, by name."""
    stmt = select(User).order_by(func.lower(User.full_name), User.id)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(
            or_(func.lower(User.full_name).like(like), User.username.like(like), func.lower(User.email).like(like))
        )
    if role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if team_id:
        stmt = stmt.where(User.team_id == (team_id if valid_row_id(team_id) else -1))
    if active is not None:
        stmt = stmt.where(User.active == active)
    return paginate(session, stmt, page=page, page_size=page_size, clamp_to_last=clamp_to_last)


def users_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(User)).scalar_one()


def team_get(session: Session, *, team_id: int) -> Team | None:
    return session.get(Team, team_id) if valid_row_id(team_id) else None


def team_by_name(session: Session, *, name: str) -> Team | None:
    key = normalise_name(name).lower()
    return session.execute(select(Team).where(func.lower(Team.name) == key)).unique().scalar_one_or_none()


def teams_list(session: Session, *, include_inactive: bool = True) -> list[Team]:
    stmt = select(Team).join(ServiceArea).order_by(func.lower(ServiceArea.name), func.lower(Team.name))
    if not include_inactive:
        stmt = stmt.where(Team.active.is_(True))
    return list(session.execute(stmt).unique().scalars())


def team_member_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(User.team_id, func.count())
        .where(User.active.is_(True), User.team_id.is_not(None))
        .group_by(User.team_id)
    )
    return {team_id: count for team_id, count in rows}


def service_area_by_name(session: Session, *, name: str) -> ServiceArea | None:
    key = normalise_name(name).lower()
    return session.execute(select(ServiceArea).where(func.lower(ServiceArea.name) == key)).scalar_one_or_none()


def service_areas_list(session: Session) -> list[ServiceArea]:
    return list(session.execute(select(ServiceArea).order_by(func.lower(ServiceArea.name))).scalars())


def training_for_user(session: Session, *, user_id: int) -> list[TrainingRecord]:
    stmt = (
        select(TrainingRecord)
        .where(TrainingRecord.user_id == user_id)
        .order_by(TrainingRecord.completed_on.desc(), TrainingRecord.id.desc())
    )
    return list(session.execute(stmt).scalars())


def training_status(records: Iterable[TrainingRecord], *, today: date) -> dict[str, TrainingStatus]:
    """For each kind of training, whether the user holds a current record, and the latest one."""
    status: dict[str, TrainingStatus] = {}
    for kind in TrainingKind:
        of_kind = [r for r in records if r.kind == kind]
        current = [r for r in of_kind if r.is_current(today)]
        best = max(current or of_kind, key=lambda r: (r.expires_on or date.max, r.completed_on), default=None)
        if current:
            state = "current"
        elif best is None:
            state = "none"
        elif best.completed_on > today:
            state = "not_started"
        else:
            state = "expired"
        status[kind.value] = TrainingStatus(
            state=state,
            current=bool(current),
            completed_on=best.completed_on if best else None,
            expires_on=best.expires_on if best else None,
        )
    return status


def user_public(user: User) -> UserPublic:
    area = user.service_area or (user.team.service_area if user.team else None)
    return UserPublic(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=sorted(user.roles),
        team_id=user.team_id,
        team=user.team.name if user.team else None,
        service_area_id=area.id if area else None,
        service_area=area.name if area else None,
        agency=user.agency,
        partner_agreement_until=user.partner_agreement_until,
        active=user.active,
        version=user.version,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def team_public(team: Team) -> TeamPublic:
    return TeamPublic(
        id=team.id,
        name=team.name,
        service_area_id=team.service_area_id,
        service_area=team.service_area.name,
        manager_id=team.manager_id,
        active=team.active,
        version=team.version,
    )


def training_public(record: TrainingRecord, *, today: date) -> TrainingPublic:
    return TrainingPublic(
        id=record.id,
        kind=record.kind,
        completed_on=record.completed_on,
        expires_on=record.expires_on,
        current=record.is_current(today),
    )


def active_users(session: Session) -> list[User]:
    """Every active user, by name (for choosing a person, e.g. a team's manager)."""
    stmt = select(User).where(User.active.is_(True)).order_by(func.lower(User.full_name), User.id)
    return list(session.execute(stmt).unique().scalars())
