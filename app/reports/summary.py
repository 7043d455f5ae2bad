"""The board pack's short written summary of what changed since the last period. Every statement is backed by a
figure in the pack (`anchor`: the id of the table or chart it comes from) and claims a rise or a fall only when
the two periods' intervals do not overlap; otherwise it says the change is within what sampling alone explains,
or that there are too few audits to tell."""

from __future__ import annotations

from dataclasses import dataclass

from app.reports.stats import Difference, Rate, compare

NOTABLE_POINTS = 5  # a change smaller than this many percentage points is not worth a sentence unless significant


@dataclass(frozen=True)
class Measure:
    key: str
    label: str  # e.g. "Management oversight recorded in the last month"
    rate: Rate
    anchor: str  # the id of the figure in the pack that shows it


@dataclass(frozen=True)
class Statement:
    text: str
    anchor: str
    difference: Difference | None = None


def percent(value: float | None) -> str:
    return "no answers" if value is None else f"{round(value * 100)}%"


def _describe(rate: Rate) -> str:
    return f"{percent(rate.value)} of {rate.n:,}"


def measure_statement(now: Measure, before: Measure | None) -> Statement | None:
    """One sentence about a measure against the previous period (None: nothing worth saying)."""
    if before is None or before.rate.n == 0:
        if now.rate.n == 0:
            return None
        return Statement(
            f"{now.label}: {_describe(now.rate)} this period (no answers in the previous period to compare with).",
            now.anchor,
        )
    difference = compare(now.rate, before.rate)
    change = f"from {_describe(before.rate)} to {_describe(now.rate)}"
    if difference is Difference.CANNOT_TELL:
        return Statement(f"{now.label}: {change}; too few answers to tell whether it changed.", now.anchor, difference)
    if difference is Difference.HIGHER:
        return Statement(
            f"{now.label} rose {change}: a real change (the 95% intervals do not overlap).", now.anchor, difference
        )
    if difference is Difference.LOWER:
        return Statement(
            f"{now.label} fell {change}: a real change (the 95% intervals do not overlap).", now.anchor, difference
        )
    moved = abs((now.rate.value or 0) - (before.rate.value or 0)) * 100
    if moved < NOTABLE_POINTS:
        return None
    return Statement(
        f"{now.label} moved {change}, within what sampling alone could explain (the intervals overlap).",
        now.anchor,
        difference,
    )


def _audits(n: int) -> str:
    return f"{n:,} audit{'' if n == 1 else 's'}"


def summarise(
    *, audits_now: int, audits_before: int, audits_anchor: str, now: list[Measure], before: list[Measure]
) -> list[Statement]:
    """The summary: how many audits, then the real changes first, then the notable ones sampling could explain,
    then those there are too few answers to judge."""
    statements = [
        Statement(
            f"{_audits(audits_now)} completed this period ({audits_before:,} in the previous period).", audits_anchor
        )
    ]
    previous = {m.key: m for m in before}
    said = [s for s in (measure_statement(m, previous.get(m.key)) for m in now) if s is not None]
    order = {
        Difference.HIGHER: 0,
        Difference.LOWER: 0,
        Difference.NO_CLEAR_DIFFERENCE: 1,
        None: 2,
        Difference.CANNOT_TELL: 3,
    }
    return statements + sorted(said, key=lambda s: order[s.difference])
