"""Pure rules of correcting the register's facts: which facts may be corrected, how a typed value is read and checked
(by the fact's type, with the readers' own cleaning and limits), how values are kept and shown, and whether a
correction still holds against an import.

No database here: `app.cases.corrections.service` gathers the facts and these decide.

- What may be corrected: the facts of `app.cases.facts.FACT_FIELDS` that are not the case's scope. Who can see a
  case follows its team, service area, worker and manager, and its sampling follows its type and status, so those
  (and the child ID, the case's start and end) come from the case system only and are changed there.
- Pinning (`corrections_pin`): a correction holds while imports still bring the value the case system had when it
  was corrected (its `source_value`): the import keeps the corrected value, and since the import's own facts are
  unchanged its facts hash is too, so it is not counted as a change. An import that brings any other value (the
  case system was put right, or the fact moved on) is taken, and the correction is superseded by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.cases.cleaning import (
    CellProblem,
    clean_text,
    coded_value,
    parse_count,
    parse_date,
    parse_yes_no,
    strip_list_prefix,
)
from app.cases.facts import FACT_FIELDS, FACT_LABELS, FACT_RANGES
from app.cases.models import Case
from app.cases.readers.canonical_csv import CODED
from app.dates import long_date
from app.errors import ValidationFailed

# The facts that decide who sees a case (its worker and manager): they come from the case system only.
SCOPE_FACTS = frozenset({"worker_name", "worker_id", "manager_name"})
# The facts a QA lead may correct, with their Python type, in the order the case page shows them.
CORRECTABLE: dict[str, type] = {name: kind for name, kind in FACT_FIELDS.items() if name not in SCOPE_FACTS}

MIN_REASON = 10  # enough to say what was wrong and where the right value comes from
MAX_REASON = 2000
MAX_VALUE = 200  # what a form or request may send as a value, at most (each text fact's own limit is lower)
MAX_COUNT = 2**31 - 1  # the largest whole number the database's integer columns hold

# Text facts' widths, from the table itself: a longer value is named, never sent to the database.
TEXT_LIMITS: dict[str, int] = {
    column.name: column.type.length
    for column in Case.__table__.columns  # type: ignore[attr-defined]
    if CORRECTABLE.get(column.name) is str and getattr(column.type, "length", None)
}

FORMATS = {
    date: "a date, like 27/3/2026",
    bool: "Yes or No",
    int: "a whole number, 0 or more",
    str: "text",
}


def fact_label(name: str) -> str:
    return FACT_LABELS.get(name) or name.replace("_", " ").capitalize()


def correctable_choices() -> list[tuple[str, str]]:
    """(fact, label) for the form's list, in the case page's order."""
    return [(name, fact_label(name)) for name in CORRECTABLE]


def fact_format(name: str) -> str:
    """What a value of this fact is typed as ("a date, like 27/3/2026")."""
    return FORMATS[CORRECTABLE[name]]


def check_field(name: object) -> str:
    """The fact named, if it may be corrected; otherwise a ValidationFailed naming `field`."""
    if not isinstance(name, str) or not name:
        raise ValidationFailed({"field": "Select the fact to correct"})
    if name in SCOPE_FACTS:
        raise ValidationFailed(
            {"field": f"{fact_label(name)} decides who sees the case, so it is corrected in the case system only"}
        )
    if name not in CORRECTABLE:
        raise ValidationFailed({"field": "Select the fact to correct from the list"})
    return name


def fact_value(name: str, raw: object, *, today: date, facts: Mapping[str, Any] | None = None) -> Any:
    """The value `raw` (as typed in the form, or sent as JSON) for the fact `name`, read and checked by the fact's
    type with the canonical CSV's cleaning and limits; a ValidationFailed naming `value` and the fact otherwise.
    `facts` (the case's other facts) lets a month of birth be checked against the year and the other way round."""
    label = fact_label(name)
    kind = CORRECTABLE[name]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationFailed({"value": f"Enter the correct value of {label.lower()}"})
    try:
        if kind is bool:
            value: Any = raw if isinstance(raw, bool) else parse_yes_no(_text(raw, label, kind))
        elif kind is int:
            value = _whole_number(name, raw, label)
        elif kind is date:
            value = parse_date(_text(raw, label, kind))
        else:
            value = _fact_text(name, _text(raw, label, kind))
    except CellProblem:
        raise ValidationFailed({"value": f"{label} must be {FORMATS[kind]}"}) from None
    if value is None:  # spreadsheet debris ("#N/A", "-") reads as blank, as in an extract
        raise ValidationFailed({"value": f"Enter the correct value of {label.lower()}"})
    if kind is date and value > today:
        raise ValidationFailed({"value": f"{label} cannot be in the future"})
    _check_birth(name, value, today=today, facts=facts or {}, label=label)
    return value


def _text(raw: object, label: str, kind: type) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed({"value": f"{label} must be {FORMATS[kind]}"})
    return raw


def _whole_number(name: str, raw: object, label: str) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise CellProblem(label)
    value = parse_count(raw)
    if value is None:  # spreadsheet debris: named as blank by the caller
        return None
    if name in FACT_RANGES:
        low, high, what = FACT_RANGES[name]
        if not low <= value <= high:
            raise ValidationFailed({"value": f"{label} must be a {what} from {low} to {high}"})
    elif value > MAX_COUNT:
        raise ValidationFailed({"value": f"{label} must be a whole number from 0 to {MAX_COUNT:,}"})
    return value


def _fact_text(name: str, raw: str) -> str | None:
    """A text fact as the canonical CSV reader cleans a cell: spaces tidied, list prefixes and codes read."""
    value = clean_text(raw, formulas=False).value
    if value is None:
        return None
    value = coded_value(value) if name in CODED else strip_list_prefix(value)
    limit = TEXT_LIMITS.get(name)
    if value is not None and limit and len(value) > limit:
        raise ValidationFailed({"value": f"{fact_label(name)} must be {limit} characters or fewer"})
    return value


def _check_birth(name: str, value: Any, *, today: date, facts: Mapping[str, Any], label: str) -> None:
    """Month and year of birth together are never after this month."""
    if name not in ("birth_year", "birth_month"):
        return
    year = value if name == "birth_year" else facts.get("birth_year")
    month = value if name == "birth_month" else facts.get("birth_month")
    if year is not None and (year > today.year or (month and (year, month) > (today.year, today.month))):
        raise ValidationFailed({"value": f"{label} cannot make the date of birth in the future"})


def reason_text(raw: object) -> str:
    """The reason as kept (spaces tidied); a ValidationFailed naming `reason` when it is missing or too short."""
    text = " ".join(raw.split()) if isinstance(raw, str) else ""
    if not text:
        raise ValidationFailed({"reason": "Give the reason for the correction"})
    if len(text) < MIN_REASON:
        raise ValidationFailed(
            {
                "reason": f"The reason must be {MIN_REASON} characters or more: say what was wrong and where the "
                "right value comes from"
            }
        )
    if len(text) > MAX_REASON:
        raise ValidationFailed({"reason": f"The reason must be {MAX_REASON:,} characters or fewer"})
    return text


# --- Values as kept (JSON) and shown --------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A fact's value as a correction keeps it: dates as YYYY-MM-DD, the rest as they are (None: not recorded)."""
    return value.isoformat() if isinstance(value, date) else value


def from_json(name: str, value: Any) -> Any:
    """A kept value back as the fact's Python value."""
    if value is not None and FACT_FIELDS.get(name) is date and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def shown(name: str, value: Any) -> str:
    """A kept value as people read it: "27 March 2026", "Yes", "3", "Not recorded"."""
    if value is None:
        return "Not recorded"
    value = from_json(name, value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return long_date(value)
    return str(value)


# --- Pinning against imports ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """A correction in force: the fact, what the case system said when it was corrected, and the corrected value
    (both as kept, JSON)."""

    id: int
    field: str
    source_value: Any
    new_value: Any


@dataclass
class PinOutcome:
    """What an import does to a case's corrections: the facts it keeps as corrected (Python values, to write instead
    of the import's), and the corrections it supersedes."""

    keep: dict[str, Any] = field(default_factory=dict)
    superseded: list[Pin] = field(default_factory=list)


def correction_holds(imported: Any, pin: Pin) -> bool:
    """Whether an import bringing `imported` for the fact leaves the correction in force: it still brings what the
    case system said when the fact was corrected."""
    return _same(to_json(imported), pin.source_value)


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a fact's value is never both, but say so rather than rely on it.
    return type(a) is type(b) and a == b


def corrections_pin(imported: Mapping[str, Any], pins: Iterable[Pin]) -> PinOutcome:
    """For one case: the import's facts (`imported`, by fact name; a fact it does not bring is None) against the
    case's corrections in force. Each holds (its corrected value is kept) while the import still brings the value the
    case system had; otherwise the import's value is taken and the correction is superseded."""
    outcome = PinOutcome()
    for pin in pins:
        if correction_holds(imported.get(pin.field), pin):
            outcome.keep[pin.field] = from_json(pin.field, pin.new_value)
        else:
            outcome.superseded.append(pin)
    return outcome
