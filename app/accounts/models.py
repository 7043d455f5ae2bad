"""Tables for people, teams, service areas, training records, sign-in tokens and attempts."""

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, Relationship, SQLModel

from app import clock
from app.db import UTCDateTime


class ServiceArea(SQLModel, table=True):
    __tablename__ = "service_area"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))

    teams: list["Team"] = Relationship(back_populates="service_area")


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    service_area_id: int = Field(foreign_key="service_area.id", index=True)
    # The team manager, when they have an account: recommendations on the team's cases escalate to them.
    manager_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("app_user.id", use_alter=True, name="fk_team_manager_id_app_user"),
            nullable=True,
            index=True,
        ),
    )
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))

    service_area: "ServiceArea" = Relationship(back_populates="teams", sa_relationship_kwargs={"lazy": "joined"})


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (Index("ix_app_user_sso_issuer_sso_subject", "sso_issuer", "sso_subject", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    full_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=255)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    # The area a head of service heads; others take their team's area.
    service_area_id: int | None = Field(default=None, foreign_key="service_area.id", index=True)
    active: bool = Field(default=True)
    # A partner agency representative's agency (app.accounts.roles.Agency) and the last day their information
    # sharing agreement with the partnership runs to: they may be assigned a multi-agency section only until then.
    agency: str | None = Field(default=None, max_length=20)
    partner_agreement_until: date | None = None
    # Who this person is at the single sign-on provider (app.accounts.sso.provisioning): the provider's issuer and
    # its stable subject id, stored at their first SSO sign-in, so a changed email is still the same person.
    sso_issuer: str | None = Field(default=None, max_length=255)
    sso_subject: str | None = Field(default=None, max_length=255)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    last_login_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))

    role_rows: list["UserRole"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "cascade": "all, delete-orphan"},
    )
    team: Optional["Team"] = Relationship(sa_relationship_kwargs={"lazy": "joined", "foreign_keys": "[User.team_id]"})
    service_area: Optional["ServiceArea"] = Relationship(sa_relationship_kwargs={"lazy": "joined"})

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def partner_agreement_current(self, today: date) -> bool:
        return self.partner_agreement_until is not None and self.partner_agreement_until >= today

    @property
    def scope_service_area_id(self) -> int | None:
        """The service area this user's scoped views are limited to."""
        if self.service_area_id is not None:
            return self.service_area_id
        return self.team.service_area_id if self.team else None


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    role: str = Field(max_length=40, primary_key=True)


class TrainingRecord(SQLModel, table=True):
    __tablename__ = "training_record"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    completed_on: date
    expires_on: date | None = None
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))

    def is_current(self, today: date) -> bool:
        return self.completed_on <= today and (self.expires_on is None or self.expires_on >= today)


class AuthToken(SQLModel, table=True):
    """A browser session (kind "session") or an API bearer token (kind "api"); only a hash is stored."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_used_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class LoginAttempt(SQLModel, table=True):
    """Sign-in attempts, read to throttle guessing by username and by client address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_created_at", "username", "created_at"),
        Index("ix_login_attempt_client_address_created_at", "client_address", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80)
    client_address: str = Field(max_length=64)
    succeeded: bool
    created_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
