"""Prefill rules: a template question can suggest its answer from the case register's facts.

The rule names the case fact and the timescale check; `prefill_suggest` (pure) works out the suggestion,
with a plain-English explanation the auditor reads beside the question. The auditor decides the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.cases.facts import FACT_LABELS
from app.dates import short_date
from app.working_days import WorkingDayCalendar


class PrefillCheck(StrEnum):
    RECORDED = "recorded"  # the fact has a value -> yes, otherwise no
    TRUE = "true"  # a yes/no fact -> yes / no
    WITHIN_WORKING_DAYS = (
        "within_working_days"  # date fact within `days` working days of `from` (a date fact or "today")
    )
    WITHIN_DAYS = "within_days"  # the same in calendar days
    AT_MOST = "at_most"  # a count fact <= `value`
    AT_LEAST = "at_least"  # a count fact >= `value`


class Prefill(BaseModel):
    """`prefill: {fact: assessment_authorised, check: within_working_days, from: referral_date, days: 45}`"""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fact: str
    check: PrefillCheck
    from_: str | None = Field(default=None, alias="from")
    days: int | None = Field(default=None, ge=0)
    value: int | None = None


class PrefillSuggestion(BaseModel):
    """A suggested answer and why, e.g. ("no", "Assessment authorised 52 working days after referral: …")."""

    model_config = ConfigDict(frozen=True)

    value: Literal["yes", "no"]
    explanation: str


TODAY = "today"  # `from: today` measures back from the day the audit is done


def fact_label(fact: str) -> str:
    """The fact's name as an auditor reads it ("Last statutory visit")."""
    return FACT_LABELS.get(fact) or fact.replace("_", " ").capitalize()


def prefill_suggest(
    prefill: Prefill,
    facts: Mapping[str, Any],
    *,
    today: date,
    calendar: WorkingDayCalendar,
    source: str | None = None,
) -> PrefillSuggestion | None:
    """The answer the register's facts suggest, or None when the facts needed are missing.

    `source` names where the facts came from ("the Annex A list 4 import on 3 Nov 2026")
    and is added to the explanation.
    """
    value = facts.get(prefill.fact)
    match prefill.check:
        case PrefillCheck.RECORDED:
            found = _suggest_recorded(prefill.fact, value)
        case PrefillCheck.TRUE:
            found = _suggest_true(prefill.fact, value)
        case PrefillCheck.WITHIN_WORKING_DAYS | PrefillCheck.WITHIN_DAYS:
            found = _suggest_within(prefill, _as_date(value), facts, today=today, calendar=calendar)
        case PrefillCheck.AT_MOST | PrefillCheck.AT_LEAST:
            found = _suggest_count(prefill, value)
    if found is None:
        return None
    answer, explanation = found
    if source:
        explanation = f"{explanation} (from {source})"
    return PrefillSuggestion(value=answer, explanation=explanation)


_Found = tuple[Literal["yes", "no"], str] | None


def _suggest_recorded(fact: str, value: Any) -> _Found:
    # An empty register field is itself the evidence: nothing recorded suggests "no".
    if value is None or (isinstance(value, str) and not value.strip()):
        return "no", f"No {_in_sentence(fact_label(fact))} recorded in the register"
    shown = short_date(value) if isinstance(value, date) else _yes_no(value) if isinstance(value, bool) else value
    return "yes", f"{fact_label(fact)} recorded in the register: {shown}"


def _suggest_true(fact: str, value: Any) -> _Found:
    if not isinstance(value, bool):
        return None
    return _yes_no(value), f"{fact_label(fact)}: {_yes_no(value)} in the register"


def _suggest_within(
    prefill: Prefill, when: date | None, facts: Mapping[str, Any], *, today: date, calendar: WorkingDayCalendar
) -> _Found:
    limit, origin = prefill.days, prefill.from_
    if when is None or limit is None or origin is None:
        return None
    working = prefill.check is PrefillCheck.WITHIN_WORKING_DAYS
    label = fact_label(prefill.fact)

    def span(start: date, end: date) -> tuple[Literal["yes", "no"], str]:
        n = calendar.working_days_between(start, end) if working else (end - start).days
        unit = "working day" if working else "day"
        return _yes_no(n <= limit), f"{n} {unit}{'' if n == 1 else 's'}"

    if origin == TODAY:
        if when > today:  # a date in the future is a mistake in the register, not evidence
            return None
        if when == today:
            return "yes", f"{label} today: {short_date(when)}"
        answer, length = span(when, today)
        return answer, f"{label} {length} ago: {short_date(when)}, limit {limit}"
    start = _as_date(facts.get(origin))
    if start is None:
        return None
    other = _in_sentence(fact_label(origin))
    if when < start:
        return "no", f"{label} on {short_date(when)}, before {other} on {short_date(start)}"
    if when == start:
        return "yes", f"{label} on the same day as {other}: {short_date(when)}"
    answer, length = span(start, when)
    return answer, f"{label} {length} after {other}: {short_date(start)} to {short_date(when)}, limit {limit}"


def _suggest_count(prefill: Prefill, value: Any) -> _Found:
    limit = prefill.value
    if limit is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    if prefill.check is PrefillCheck.AT_MOST:
        ok, wording = value <= limit, "at most"
    else:
        ok, wording = value >= limit, "at least"
    return _yes_no(ok), f"{fact_label(prefill.fact)}: {value}; {wording} {limit} expected"


def _as_date(value: Any) -> date | None:
    """A date fact, whether held as a date or (in stored JSON) an ISO string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _yes_no(flag: bool) -> Literal["yes", "no"]:
    return "yes" if flag else "no"


def _in_sentence(label: str) -> str:
    """A label as it reads mid-sentence: "referral", but "IRO contact" keeps its capitals."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]
