"""The rules of a safeguarding escalation that need no database: working hours, the chase ladder, the outcomes an
acknowledgement records, and how long things took, in words.

Working hours are 09:00 to 17:00, Monday to Friday, in the council's time zone (TIMEZONE), on the working days of
`app.working_days` (its public holidays excluded). An escalation raised at 16:00 on a Friday has had one working
hour by Monday 09:00 and two by 10:00.

The chase ladder: an escalation nobody has acknowledged (or withdrawn) is chased once every
ESCALATION_CHASE_WORKING_HOURS working hours after it was raised, one step at a time:

    step 1 (N working hours)    the recipient again
    step 2 (2N)                 the heads of service of the case's service area (the QA leads if it has none)
    step 3 (3N)                 the QA leads

`chase_step_due` says which step is due now, given how many have been sent; the job (`app.escalations.chase`)
records each step once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.config import Settings
from app.working_days import WorkingDayCalendar, calendar_for

DAY_START, DAY_END = time(9), time(17)
RECIPIENT_STEP, HEAD_OF_SERVICE_STEP, QA_LEAD_STEP = 1, 2, 3
LAST_STEP = QA_LEAD_STEP
STEP_LABELS = {
    RECIPIENT_STEP: "Reminder to the person told",
    HEAD_OF_SERVICE_STEP: "Escalated to the head of service",
    QA_LEAD_STEP: "Escalated to the QA leads",
}

# What the person who acknowledges an escalation did about it (Escalation.outcome).
STRATEGY_DISCUSSION, REFERRAL, ALREADY_KNOWN, NO_FURTHER_ACTION = (
    "strategy_discussion",
    "referral_made",
    "already_known",
    "no_further_action",
)
OUTCOMES = {
    STRATEGY_DISCUSSION: "Strategy discussion held",
    REFERRAL: "Referral made",
    ALREADY_KNOWN: "Already known and being acted on",
    NO_FURTHER_ACTION: "No further action",
}
NOT_RECORDED = "Not recorded"  # acknowledged before outcomes were asked for


def outcome_label(outcome: str | None) -> str:
    return OUTCOMES.get(outcome or "", NOT_RECORDED)


# --- Working hours ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """The working day's hours on a jurisdiction's working days, in one time zone. Pure: no clock, no database."""

    calendar: WorkingDayCalendar
    zone: tzinfo
    start: time = DAY_START
    end: time = DAY_END

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of a local day, in UTC; None when it is not a working day."""
        if not self.calendar.is_working_day(day):
            return None
        opens = datetime.combine(day, self.start, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=self.zone).astimezone(UTC)
        return opens, closes

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from `start` to `end` (nothing when `end` is not after `start`)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta()
        day, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        while day <= last:
            hours = self.window(day)
            if hours is not None:
                overlap = min(end, hours[1]) - max(start, hours[0])
                total += max(overlap, timedelta())
            day += timedelta(days=1)
        return total

    def after(self, start: datetime, working: timedelta) -> datetime:
        """The moment `working` working time has passed since `start` (in UTC)."""
        start = start.astimezone(UTC)
        remaining = working
        day = start.astimezone(self.zone).date()
        while True:
            hours = self.window(day)
            if hours is not None and hours[1] > start:
                begin = max(start, hours[0])
                if begin + remaining <= hours[1]:
                    return begin + remaining
                remaining -= hours[1] - begin
            day += timedelta(days=1)


def working_hours_for(settings: Settings) -> WorkingHours:
    """The council's working hours: its jurisdiction's working days, in TIMEZONE."""
    return WorkingHours(calendar=calendar_for(settings.working_days_jurisdiction), zone=settings.tz)


# --- The chase ladder ------------------------------------------------------------------------------------------


def chase_step_due(
    raised_at: datetime, now: datetime, steps_done: int, calendar: WorkingHours, hours: int
) -> int | None:
    """The chase step due `now` for an escalation raised at `raised_at`, still unacknowledged, of which `steps_done`
    steps have been sent: step k is due once k × `hours` working hours have passed since it was raised. None when
    the next step is not due yet, or every step has been sent. One step at a time: a run that finds two overdue
    (the job did not run for a while) sends the first, then asks again."""
    step = steps_done + 1
    if step > LAST_STEP:
        return None
    return step if calendar.between(raised_at, now) >= timedelta(hours=hours * step) else None


def chase_due_at(raised_at: datetime, step: int, calendar: WorkingHours, hours: int) -> datetime:
    """When step `step` of the ladder falls due."""
    return calendar.after(raised_at, timedelta(hours=hours * step))


# --- How long, in words ----------------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def duration_text(span: timedelta, *, days: bool = True) -> str:
    """A span in words, to the minute: "2 days 3 hours 5 minutes", "45 minutes", "0 minutes". With days=False,
    whole days count as 24 hours ("27 hours 5 minutes")."""
    minutes = max(0, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    whole_days, hours = divmod(hours, 24) if days else (0, hours)
    parts = [_plural(n, word) for n, word in ((whole_days, "day"), (hours, "hour"), (minutes, "minute")) if n]
    return " ".join(parts) or "0 minutes"


def working_time_text(span: timedelta) -> str:
    """Working time in words: "3 working hours 30 minutes", "45 working minutes"."""
    minutes = max(0, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _plural(minutes, "working minute")
    return _plural(hours, "working hour") + (f" {_plural(minutes, 'minute')}" if minutes else "")
