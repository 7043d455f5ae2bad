"""The retention schedule: for each kind of record, how long it is kept after which event, and what then happens to
it (delete, anonymise, or redact the audit trail's details). Read from YAML (the shipped
`default_schedule.yaml`, or the council's own at RETENTION_SCHEDULE) and validated with messages naming the rule and
the field. Pure: no database here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from app.dates import months_before

DEFAULT_SCHEDULE = Path(__file__).with_name("default_schedule.yaml")


@dataclass(frozen=True)
class Kind:
    """A kind of record the schedule covers: what it is, which events a period may count from, what may be done."""

    label: str
    anchors: tuple[str, ...]
    actions: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "closed_cases": Kind(
        "Closed cases in the register, with everything about them", ("case_closed",), ("anonymise", "delete")
    ),
    "completed_audits": Kind("Completed audits and their answers", ("audit_completed",), ("anonymise", "delete")),
    "moderation": Kind("Moderation rounds of completed audits", ("audit_completed",), ("anonymise", "delete")),
    "replies": Kind("Replies to audit findings", ("audit_completed", "created"), ("anonymise", "delete")),
    "recommendations": Kind(
        "Closed recommendations and their history", ("recommendation_closed",), ("anonymise", "delete")
    ),
    "escalations": Kind("Safeguarding escalations", ("created",), ("anonymise", "delete")),
    "imports": Kind(
        "Imports of the register (their record and listed problems)", ("import_finished",), ("anonymise", "delete")
    ),
    "import_files": Kind(
        "Uploaded extract files kept between preview and confirmation", ("import_finished",), ("delete",)
    ),
    "notifications": Kind("In-app notifications", ("created",), ("delete",)),
    "email_outbox": Kind("Sent emails (alerts, reminders, board packs)", ("created",), ("delete",)),
    "sign_in_attempts": Kind("Sign-in attempts", ("created",), ("delete",)),
    "trail_details": Kind("Audit-trail event details (summary, before and after)", ("created",), ("redact",)),
}

_PERIOD = re.compile(r"^\s*(\d{1,4})\s+(day|week|month|year)s?\s*$", re.IGNORECASE)
MAX_YEARS = 100


class ScheduleError(ValueError):
    """The schedule cannot be used; `problems` name each rule and field at fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"retention schedule {source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class Period:
    count: int
    unit: str  # "day", "week", "month", "year"

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'' if self.count == 1 else 's'}"

    def cutoff(self, today: date) -> date:
        """The last anchor date that is due on `today`: records whose event fell on or before it are due."""
        if self.unit in ("day", "week"):
            return today - timedelta(days=self.count * (7 if self.unit == "week" else 1))
        return months_before(today, self.count * (12 if self.unit == "year" else 1))


def period_parse(text: object) -> Period | None:
    match = _PERIOD.match(str(text)) if isinstance(text, str | int) else None
    if match is None:
        return None
    count, unit = int(match.group(1)), match.group(2).lower()
    years = count / {"day": 365, "week": 52, "month": 12, "year": 1}[unit]
    return Period(count, unit) if years <= MAX_YEARS else None


@dataclass(frozen=True)
class Rule:
    kind: str
    keep: Period
    after: str
    then: str
    source: str

    @property
    def label(self) -> str:
        return KINDS[self.kind].label


@dataclass(frozen=True)
class Schedule:
    rules: dict[str, Rule]
    source: str  # where it was read from

    def rule(self, kind: str) -> Rule:
        return self.rules[kind]


def _rule_parse(kind: str, raw: object, problems: list[str]) -> Rule | None:
    where = f"rules.{kind}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected keep, after, then and source")
        return None
    spec = KINDS[kind]
    found = len(problems)
    for unknown in sorted(set(raw) - {"keep", "after", "then", "source"}):
        problems.append(f"{where}.{unknown}: not a setting of a rule (keep, after, then, source)")
    keep = period_parse(raw.get("keep"))
    if keep is None:
        problems.append(
            f"{where}.keep: {raw.get('keep')!r} is not a period like '6 years', '18 months' or '90 days'"
            f" (at most {MAX_YEARS} years)"
        )
    after = raw.get("after")
    if after not in spec.anchors:
        problems.append(f"{where}.after: {after!r} is not one of {', '.join(spec.anchors)}")
    then = raw.get("then")
    if then not in spec.actions:
        problems.append(f"{where}.then: {then!r} is not one of {', '.join(spec.actions)}")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(f"{where}.source: say where the period comes from (guidance, law or the council's decision)")
    if len(problems) > found or keep is None:
        return None
    return Rule(kind=kind, keep=keep, after=str(after), then=str(then), source=" ".join(str(source).split()))


def schedule_parse(data: Any, *, source: str) -> Schedule:
    """Validate a parsed YAML document; every problem is listed at once."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ScheduleError(source, ["expected a mapping with 'version: 1' and 'rules'"])
    if data.get("version") != 1:
        problems.append(f"version: {data.get('version')!r} is not a version this app reads (1)")
    for unknown in sorted(set(data) - {"version", "rules"}):
        problems.append(f"{unknown}: not a setting of the schedule (version, rules)")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, dict):
        raise ScheduleError(source, [*problems, "rules: expected one entry per kind of record"])
    for unknown in sorted(set(raw_rules) - set(KINDS)):
        problems.append(f"rules.{unknown}: not a kind of record this app keeps (one of {', '.join(KINDS)})")
    for missing in [kind for kind in KINDS if kind not in raw_rules]:
        problems.append(f"rules.{missing}: missing; every kind of record needs a rule ({KINDS[missing].label})")
    rules = {kind: _rule_parse(kind, raw_rules[kind], problems) for kind in KINDS if kind in raw_rules}
    if problems:
        raise ScheduleError(source, problems)
    return Schedule(rules={kind: rule for kind, rule in rules.items() if rule is not None}, source=source)


def schedule_load(path: Path | None = None) -> Schedule:
    """The schedule at `path`, or the shipped default; ScheduleError names the file and every problem."""
    path = path or DEFAULT_SCHEDULE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScheduleError(str(path), [f"cannot be read ({exc.strerror or type(exc).__name__})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ScheduleError(str(path), [f"{where}not valid YAML ({getattr(exc, 'problem', None) or exc})"]) from None
    return schedule_parse(data, source=str(path))
