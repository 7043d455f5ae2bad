"""API shapes for recommendations: the request bodies (raise, thematic raise, update), the list's query, and an
item as JSON with its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from app.db import MAX_ROW_ID
from app.input_types import DateValue
from app.numbers import parse_int
from app.recommendations import rules
from app.recommendations.selectors import (
    STATUS_FILTERS,
    HistoryEntry,
    RecommendationRow,
)
from app.recommendations.service import NOTE_MAX_LENGTH, TEXT_MAX_LENGTH
from app.web.forms import ChosenId, clip

RowIdField = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
Priority = Literal["urgent", "high", "normal"]
NOTE_LIMIT = 10_000  # the service's own limits are tighter and name the field; this only bounds the request


class RecommendationCreate(BaseModel):
    """What must be done, by whom, by when. `due_date` defaults by priority (urgent 7 days, high 28, normal 56,
    unless configured otherwise); themes come from the managed list (active ones only)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=NOTE_LIMIT, description="what must be done")
    owner_id: RowIdField | None = Field(
        default=None, description="who must do it; from an audit, defaults to the case's worker (or its team manager)"
    )
    due_date: DateValue | None = None
    priority: Priority
    theme_ids: list[RowIdField] = Field(default=[], max_length=100)


class AuditRecommendationCreate(RecommendationCreate):
    section_key: str | None = Field(
        default=None, max_length=120, description="the section of the audit's template the finding is in"
    )


class ThematicRecommendationCreate(RecommendationCreate):
    service_area_id: RowIdField | None = Field(
        default=None, description="the service area it is for (default: the owner's)"
    )


class RecommendationUpdate(BaseModel):
    """Move a recommendation on and/or change its due date, against the version you read.

    `status`: `in_progress` (start, by the owner), `completed` (by the owner; `evidence` required), `closed`
    (verified by someone other than the owner) or `reopened` (by a verifier, with a `reason`; `in_progress` from
    completed means the same). `due_date` needs a reason: `due_date_reason`, or `reason` when that is absent.
    With both, the due date changes first, then the status, in one transaction: all or nothing."""

    model_config = ConfigDict(extra="forbid")

    version: RowIdField = Field(description="the version of the recommendation this change was made against")
    status: Literal["in_progress", "completed", "closed", "reopened"] | None = None
    evidence: str | None = Field(
        default=None, max_length=NOTE_LIMIT, description="what was done (required to complete it)"
    )
    reason: str | None = Field(
        default=None,
        max_length=NOTE_LIMIT,
        description="why it is reopened (and the due date's reason if `due_date_reason` is absent)",
    )
    due_date: DateValue | None = None
    due_date_reason: str | None = Field(
        default=None, max_length=NOTE_LIMIT, description="why the due date changes (required with `due_date`)"
    )


# --- The HTML forms: text as posted (the service tidies it and names every problem), a date from its three boxes.

DUE_DATE_NOT_REAL = "The due date must be a real date, for example 27 3 2027"
# A note the service weighs: cut a little above its limit, so the service still names one that is too long.
FormNote = Annotated[str, BeforeValidator(clip(NOTE_MAX_LENGTH + 100))]


def _real_date(value: object) -> object:
    """The ISO date `date_from_parts` joins (None when the boxes are blank); anything else is not a real date."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(DUE_DATE_NOT_REAL) from None
    return value


class RecommendationNotesForm(BaseModel):
    """The evidence and the reason on a recommendation's page, as shown again with errors."""

    evidence: FormNote = ""
    reason: FormNote = ""


class RecommendationMoveForm(RecommendationNotesForm):
    """Start, complete, close or reopen (the version is read with `posted_version`)."""

    action: rules.Action

    @field_validator("action", mode="before")
    @classmethod
    def _known_action(cls, value: object) -> object:
        if value not in {a.value for a in rules.Action}:
            raise ValueError("Choose what to do with the recommendation")
        return value


class DueReasonForm(BaseModel):
    """Why the due date changes, as shown again with errors."""

    due_reason: FormNote = ""


class DueDateForm(DueReasonForm):
    """A new due date (from `date_from_parts`: the service says when it is blank) and why."""

    due_date: Annotated[date | None, BeforeValidator(_real_date)] = None


# What must be done, and the other text of the raising form: cut a little above the service's limit, as a note is.
RaiseText = Annotated[str, BeforeValidator(clip(TEXT_MAX_LENGTH + 100))]
MAX_TICKED_THEMES = 50  # the themes of the raising form that are read (the page lists the active ones)


def _first_ticked(value: object) -> object:
    return value[:MAX_TICKED_THEMES] if isinstance(value, list) else value


def _listed_theme(value: object) -> object:
    """A ticked theme's id (ASCII digits, at most nine); anything else is not one of the page's themes."""
    if isinstance(value, str):
        if (number := parse_int(value)) is None:
            raise ValueError("Choose themes from the list")
        return number
    return value


class RecommendationRaiseValues(BaseModel):
    """The raising form as posted, cut to length (the first themes ticked), as shown again with errors."""

    text: RaiseText = ""
    owner_id: RaiseText = ""
    priority: RaiseText = ""
    section_key: RaiseText = ""
    service_area_id: RaiseText = ""
    theme_ids: Annotated[list[str], BeforeValidator(_first_ticked)] = []


class RecommendationRaiseForm(BaseModel):
    """Raising a recommendation from an audit's findings or a cycle's: the text, priority and section as posted
    (the service tidies and judges them), the owner and service area from their lists (anything else reads as
    none, for the service to name), an optional due date (from `date_from_parts`) and the ticked themes."""

    text: RaiseText = ""
    owner_id: ChosenId = None
    priority: RaiseText = ""
    section_key: RaiseText = ""
    service_area_id: ChosenId = None
    due_date: Annotated[date | None, BeforeValidator(_real_date)] = None
    theme_ids: Annotated[list[Annotated[int, BeforeValidator(_listed_theme)]], BeforeValidator(_first_ticked)] = []


class ThemeAddForm(BaseModel):
    name: str = ""  # the service tidies it and names what is wrong with it


class ThemeStatusForm(BaseModel):
    """Retire (`active=no`) or restore (`active=yes`) a theme."""

    theme_id: str  # read by the page before the rest: no such theme is a 404
    active: Literal["yes", "no"]

    @field_validator("active", mode="before")
    @classmethod
    def _yes_or_no(cls, value: object) -> object:
        if value not in ("yes", "no"):
            raise ValueError("Choose whether to retire or restore the theme")
        return value


class RecommendationQuery(BaseModel):
    """The list's filters: each narrows what you may already see, never widens it. A value that makes no sense is
    a 422 naming the parameter."""

    status: str | None = Field(default=None, max_length=40, description=" | ".join(STATUS_FILTERS))
    bucket: str | None = Field(
        default=None, max_length=20, description="how overdue (outstanding only): " + " | ".join(rules.AGEING_BUCKETS)
    )
    team: str | None = Field(default=None, max_length=20, description="a team's id")
    service_area: str | None = Field(default=None, max_length=20, description="a service area's id")
    theme: str | None = Field(default=None, max_length=20, description="a theme's id")
    priority: str | None = Field(default=None, max_length=20, description=" | ".join(rules.PRIORITIES))
    cycle: str | None = Field(default=None, max_length=20, description="a cycle's id")
    owner: str | None = Field(default=None, max_length=20, description='"me", or a user\'s id')
    raised_by: str | None = Field(default=None, max_length=20, description='"me", or a user\'s id')
    q: str | None = Field(default=None, max_length=200, description="words in what must be done")
    raised_within: str | None = Field(default=None, max_length=4, description="raised in the last 3 or 12 months")
    closed_within: str | None = Field(default=None, max_length=4, description="closed in the last 3 or 12 months")
    raised_from: str | None = Field(default=None, max_length=10, description="raised on or after (YYYY-MM-DD, local)")
    raised_to: str | None = Field(default=None, max_length=10, description="raised on or before (YYYY-MM-DD, local)")
    sort: str | None = Field(default=None, max_length=10, description="due (default) | raised | overdue")

    def params(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Named(BaseModel):
    id: int
    name: str


class HistoryPublic(BaseModel):
    action: str = Field(description="raise | start | complete | close | reopen | due_date")
    label: str
    from_status: str | None
    to_status: str | None
    old_due_date: date | None
    new_due_date: date | None
    note: str = Field(description="the evidence, or the reason for a reopening or a due-date change")
    actor: Named | None
    at: datetime


class RecommendationPublic(BaseModel):
    id: int
    text: str
    status: str
    priority: str
    due_date: date
    owner: Named
    team: Named | None
    service_area: Named | None
    audit_id: int | None
    case_id: int | None
    child_id: str | None
    section_key: str | None
    cycle_id: int | None
    themes: list[str]
    raised_by: Named
    raised_at: datetime
    completed_at: datetime | None
    closed_at: datetime | None
    evidence: str
    days_overdue: int = Field(description="whole days past the due date (0 unless outstanding and overdue)")
    escalation_level: str | None = Field(description="owner | team_manager | head_of_service | director, while overdue")
    version: int


class RecommendationDetail(RecommendationPublic):
    history: list[HistoryPublic] = Field(description="oldest first")


def _named(id_: int | None, name: str) -> Named | None:
    return Named(id=id_, name=name) if id_ is not None else None


def recommendation_public(row: RecommendationRow) -> RecommendationPublic:
    item = row.item
    assert item.id is not None
    return RecommendationPublic(
        id=item.id,
        text=item.text,
        status=item.status,
        priority=item.priority,
        due_date=item.due_date,
        owner=Named(id=item.owner_id, name=row.owner_name),
        team=_named(item.team_id, row.team_name),
        service_area=_named(item.service_area_id, row.service_area_name),
        audit_id=item.audit_id,
        case_id=item.case_id,
        child_id=row.child_id or None,
        section_key=item.section_key,
        cycle_id=item.cycle_id,
        themes=row.themes,
        raised_by=Named(id=item.raised_by_id, name=row.raised_by_name),
        raised_at=item.raised_at,
        completed_at=item.completed_at,
        closed_at=item.closed_at,
        evidence=item.evidence,
        days_overdue=row.days_overdue,
        escalation_level=row.level.value if row.level else None,
        version=item.version,
    )


def history_public(entry: HistoryEntry) -> HistoryPublic:
    e = entry.event
    return HistoryPublic(
        action=e.action,
        label=entry.label,
        from_status=e.from_status,
        to_status=e.to_status,
        old_due_date=e.old_due_date,
        new_due_date=e.new_due_date,
        note=e.note,
        actor=_named(e.actor_id, entry.actor_name),
        at=e.created_at,
    )


def recommendation_detail(row: RecommendationRow, history: list[HistoryEntry]) -> RecommendationDetail:
    return RecommendationDetail(**recommendation_public(row).model_dump(), history=[history_public(h) for h in history])
