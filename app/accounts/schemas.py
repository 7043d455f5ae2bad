"""Request, response and form models for accounts."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, ValidationInfo, field_validator
from starlette.datastructures import FormData

from app.accounts.passwords import MIN_PASSWORD_LENGTH
from app.accounts.roles import Agency, Role, TrainingKind
from app.db import MAX_ROW_ID
from app.input_types import DateValue, StrictFlag
from app.web.forms import BlankNone, FormId, Ticked, date_from_parts, date_part_values

MAX_PASSWORD_LENGTH = 200  # the max_length of every password field here
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")


def normalise_username(value: str) -> str:
    """Usernames are matched case-insensitively and without surrounding spaces."""
    return value.strip().lower()


def normalise_name(value: str) -> str:
    """Collapse runs of white space (including non-breaking spaces) to one space."""
    return " ".join(value.replace("\u00a0", " ").split())


def _tidy_text(value: object) -> object:
    return normalise_name(value) if isinstance(value, str) else value


def _blank_to_none(value: object) -> object:
    if isinstance(value, str):
        value = normalise_name(value)
        return value or None
    return value


TidyText = Annotated[str, BeforeValidator(_tidy_text)]
OptionalEmail = Annotated[EmailStr | None, BeforeValidator(_blank_to_none)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]


class _Username(BaseModel):
    username: str = Field(title="username", min_length=1, max_length=80)

    @field_validator("username", mode="before")
    @classmethod
    def _username(cls, value: object) -> object:
        if isinstance(value, str):
            value = normalise_username(value)
            if value and not USERNAME_PATTERN.fullmatch(value):
                raise ValueError("Username must be 2 to 80 characters: letters, numbers, dots, hyphens or underscores")
        return value


class _Password(BaseModel):
    password: str = Field(title="password", min_length=MIN_PASSWORD_LENGTH, max_length=200)


class UserCreate(_Username, _Password):
    full_name: TidyText = Field(title="full name", min_length=1, max_length=200)
    email: OptionalEmail = Field(default=None, title="email address")
    roles: list[Role] = Field(title="roles", min_length=1)
    team_id: int | None = Field(default=None, title="team", ge=1, le=MAX_ROW_ID)
    service_area: OptionalText = Field(default=None, title="service area", max_length=120)
    # A partner agency's representative (the partner role) needs an agency; their agreement with the partnership
    # must run to at least the day they are assigned a multi-agency section.
    agency: Agency | None = Field(default=None, title="agency")
    partner_agreement_until: DateValue | None = Field(default=None, title="partner agreement end date")


class UserUpdate(BaseModel):
    version: int = Field(title="version")
    full_name: TidyText | None = Field(default=None, title="full name", min_length=1, max_length=200)
    email: OptionalEmail = Field(default=None, title="email address")
    roles: list[Role] | None = Field(default=None, title="roles", min_length=1)
    team_id: int | None = Field(default=None, title="team", ge=1, le=MAX_ROW_ID)
    service_area: OptionalText = Field(default=None, title="service area", max_length=120)
    active: StrictFlag | None = None
    password: str | None = Field(default=None, title="password", min_length=MIN_PASSWORD_LENGTH, max_length=200)
    agency: Agency | None = Field(default=None, title="agency")
    partner_agreement_until: DateValue | None = Field(default=None, title="partner agreement end date")


class TrainingCreate(BaseModel):
    kind: TrainingKind = Field(title="training")
    completed_on: DateValue = Field(title="date completed")
    expires_on: DateValue | None = Field(default=None, title="expiry date")

    @field_validator("expires_on")
    @classmethod
    def _expiry_after_completion(cls, value: date | None, info: ValidationInfo) -> date | None:
        completed_on = info.data.get("completed_on")
        if value is not None and completed_on is not None and value <= completed_on:
            raise ValueError("Expiry date must be after the date completed")
        return value


class TeamCreate(BaseModel):
    name: TidyText = Field(title="team name", min_length=1, max_length=120)
    service_area: TidyText = Field(title="service area", min_length=1, max_length=120)


class TeamUpdate(BaseModel):
    version: int
    name: TidyText | None = Field(default=None, title="team name", min_length=1, max_length=120)
    service_area: TidyText | None = Field(default=None, title="service area", min_length=1, max_length=120)
    active: StrictFlag | None = None
    # The team manager's user id (recommendations escalate to them); sent as null, it clears the manager.
    manager_id: int | None = Field(default=None, title="team manager", ge=1, le=2**31 - 1)


# --- The HTML forms: what a browser posts (blank text for "none", a ticked box as "yes") read into the models above.


def _blank_agency(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


FormAgency = Annotated[Agency | None, BeforeValidator(_blank_agency)]
AGREEMENT = "partner_agreement_until"


def date_form_values(form: FormData, *names: str) -> dict[str, str | None]:
    """The dates of a form (GOV.UK date inputs: the user form's partner agreement, a training course's): each as
    ISO text (or as typed, for validation to name, or None when blank), and its three boxes as posted, to show the
    form again."""
    values: dict[str, str | None] = {}
    for name in names:
        values.update({name: date_from_parts(form, name), **date_part_values(form, name)})
    return values


def partner_edit_values(user: object) -> dict[str, str]:
    """The user form's agency and agreement date boxes filled from the account, to edit it."""
    until = getattr(user, AGREEMENT, None)
    parts = {"day": until.day, "month": until.month, "year": until.year} if isinstance(until, date) else {}
    return {"agency": getattr(user, "agency", None) or "", **{f"{AGREEMENT}-{k}": str(v) for k, v in parts.items()}}


class UserCreateForm(UserCreate):
    team_id: FormId = Field(default=None, title="team", ge=1, le=MAX_ROW_ID)
    agency: FormAgency = Field(default=None, title="agency")


class UserUpdateForm(UserUpdate):
    team_id: FormId = Field(default=None, title="team", ge=1, le=MAX_ROW_ID)
    agency: FormAgency = Field(default=None, title="agency")
    # Left blank, the password is not changed.
    password: BlankNone = Field(default=None, title="password", min_length=MIN_PASSWORD_LENGTH, max_length=200)


class TeamUpdateForm(TeamUpdate):
    version: int = Field(title="version")
    active: Ticked = False  # an unticked box is not posted: deactivate
    manager_id: FormId = Field(default=None, title="team manager", ge=1, le=MAX_ROW_ID)


class LoginForm(BaseModel):
    username: str  # as typed: sign-in tidies it
    password: str
    next: str  # where to go after: only a same-site path is followed

    @field_validator("username")
    @classmethod
    def _username_entered(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Enter your username")
        return value

    @field_validator("password")
    @classmethod
    def _password_entered(cls, value: str) -> str:
        if not value:
            raise ValueError("Enter your password")
        return value


class PasswordChangeForm(BaseModel):
    """Your own new password, typed twice (the view checks the current one against the account)."""

    current_password: str
    new_password: str
    confirm_password: str

    @field_validator("new_password")
    @classmethod
    def _new_length(cls, value: str) -> str:
        if len(value) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"Your new password must be {MIN_PASSWORD_LENGTH} characters or more")
        if len(value) > MAX_PASSWORD_LENGTH:
            raise ValueError(f"Your new password must be {MAX_PASSWORD_LENGTH} characters or fewer")
        return value

    @field_validator("confirm_password")
    @classmethod
    def _confirmed(cls, value: str, info: ValidationInfo) -> str:
        new = info.data.get("new_password")
        if new is not None and value != new:  # a new password refused already is not compared
            raise ValueError("The two new passwords do not match")
        return value


class TokenRequest(BaseModel):
    username: str
    password: str


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class TeamPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    service_area_id: int
    service_area: str
    manager_id: int | None = None
    active: bool
    version: int


class TrainingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    completed_on: date
    expires_on: date | None
    current: bool


class TrainingStatus(BaseModel):
    state: Literal["current", "expired", "not_started", "none"]
    current: bool
    completed_on: date | None = None
    expires_on: date | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    full_name: str
    email: str | None
    roles: list[str]
    team_id: int | None
    team: str | None
    service_area_id: int | None
    service_area: str | None
    agency: str | None = None
    partner_agreement_until: date | None = None
    active: bool
    version: int
    created_at: datetime
    last_login_at: datetime | None


class MePublic(UserPublic):
    training: dict[str, TrainingStatus]
