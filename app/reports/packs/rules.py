"""Pure rules of board pack records: when a schedule's next draft is due, reading a distribution list, the signed
download link a board member gets. No clock, no database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email

from app.reports.board_pack import Period, PeriodKind, period_containing, previous_period
from app.working_days import WorkingDayCalendar

MAX_RECIPIENTS = 50
WORKING_DAY_RANGE = (1, 15)


def draft_due(frequency: str, working_day: int, today: date, calendar: WorkingDayCalendar) -> Period | None:
    """The period whose draft a schedule prepares today or earlier: the last month (or quarter) that has ended,
    once its `working_day`th working day after has come; None before then."""
    kind: PeriodKind = "month" if frequency == "monthly" else "quarter"
    ended = previous_period(period_containing(kind, today))
    due = calendar.add_working_days(ended.last, working_day)
    return ended if today >= due else None


def recipients_parse(text: str) -> tuple[list[str], list[str]]:
    """A distribution list typed one address a line (commas and semicolons also separate): the addresses, in order,
    each once (normalised), and a message per problem naming its line."""
    found: list[str] = []
    seen: set[str] = set()  # the same mailbox, however it is capitalised
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for part in re.split(r"[,;]", line):
            address = part.strip()
            if not address:
                continue
            try:
                email = validate_email(address, check_deliverability=False).normalized
            except EmailNotValidError:
                problems.append(f"Line {number}: “{address[:80]}” is not an email address, like name@example.org")
                continue
            if email.lower() not in seen:
                seen.add(email.lower())
                found.append(email)
    if not found and not problems:
        problems.append("Enter at least one email address")
    if len(found) > MAX_RECIPIENTS:
        problems.append(f"A pack goes to at most {MAX_RECIPIENTS} addresses; this list has {len(found)}")
    return found, problems


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def link_token(secret: str, delivery_id: int, expires_at: datetime) -> str:
    """The download link's token for one delivery: its id and expiry, signed with the app's secret."""
    body = f"{delivery_id}.{int(expires_at.timestamp())}"
    signature = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def link_open(secret: str, token: str, now: datetime) -> int | None:
    """The delivery a token is for, if its signature holds and it has not expired; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 9:
        return None
    body = f"{parts[0]}.{parts[1]}"
    expected = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]) or int(parts[1]) < now.timestamp():
        return None
    return int(parts[0])


def _key(secret: str) -> bytes:
    return hashlib.sha256(f"board-pack-link:{secret}".encode()).digest()
