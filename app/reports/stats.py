"""What a sample can and cannot say: rates with Wilson score intervals (with the finite population correction when
the sample was drawn from a known frame), "too few to judge", comparisons that claim a difference only when the
intervals do not overlap, and targets judged met, not met or "cannot tell". Pure functions, no database.

The Wilson interval for x successes in n is the set of p with |x/n - p| <= z * sqrt(p(1-p)/n): unlike the
textbook p ± z·se it never leaves [0, 1] and behaves at 0/n and n/n. Sampling n of a frame of N without
replacement shrinks the variance by f = (N - n) / (N - 1); solving the same inequality with z²·f in place of z²
gives the corrected interval, which closes to the observed rate when the whole frame was audited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

DEFAULT_MIN_N = 10  # fewer answers than this: "too few to judge" (settings can change it)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high


def z_for(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def finite_population_factor(n: int, population: int | None) -> float:
    """(N - n) / (N - 1): 1 for an unknown or infinite frame, 0 when the whole frame was audited."""
    if population is None:
        return 1.0
    if population < n:
        raise ValueError(f"the frame ({population}) cannot be smaller than the sample ({n})")
    if population <= 1:
        return 0.0
    return (population - n) / (population - 1)


def wilson(successes: int, n: int, *, population: int | None = None, confidence: float = 0.95) -> Interval | None:
    """The Wilson score interval for successes/n (None when n is 0), corrected for a finite frame of `population`."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError("need 0 <= successes <= n")
    if n == 0:
        return None
    p = successes / n
    z2 = z_for(confidence) ** 2 * finite_population_factor(n, population)
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) * math.sqrt(z2) / (1 + z2 / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Rate:
    """yes ÷ (yes + no), with n, its interval and whether n is too small to judge."""

    yes: int
    n: int
    interval: Interval | None
    population: int | None  # the frame, when the finite population correction was used
    too_few: bool

    @property
    def value(self) -> float | None:
        return self.yes / self.n if self.n else None

    @property
    def corrected(self) -> bool:
        return self.population is not None


def rate(
    yes: int, no: int, *, population: int | None = None, min_n: int = DEFAULT_MIN_N, confidence: float = 0.95
) -> Rate:
    """A compliance rate (not applicable answers are left out before this: they are neither yes nor no)."""
    n = yes + no
    if population is not None and population < n:
        population = None  # a frame smaller than the answers is not this sample's frame: no correction
    return Rate(
        yes=yes,
        n=n,
        interval=wilson(yes, n, population=population, confidence=confidence),
        population=population,
        too_few=n < min_n,
    )


class Difference(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    NO_CLEAR_DIFFERENCE = "no_clear_difference"  # the intervals overlap
    CANNOT_TELL = "cannot_tell"  # one of them is too few to judge


def compare(first: Rate, second: Rate) -> Difference:
    """Whether `first` is higher or lower than `second`: only claimed when their intervals do not overlap."""
    if first.too_few or second.too_few or first.interval is None or second.interval is None:
        return Difference.CANNOT_TELL
    if first.interval.overlaps(second.interval):
        return Difference.NO_CLEAR_DIFFERENCE
    return Difference.HIGHER if first.interval.low > second.interval.high else Difference.LOWER


def ranked(rates: dict[str, Rate]) -> list[tuple[str, Rate]]:
    """Rates best first, leaving out those too few to judge (they are never ranked)."""
    judged = [(key, r) for key, r in rates.items() if not r.too_few and r.value is not None]
    return sorted(judged, key=lambda pair: (-(pair[1].value or 0.0), pair[0]))


class Verdict(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    CANNOT_TELL = "cannot_tell"


def against_target(measured: Rate, target: float, *, at_most: bool = False) -> Verdict:
    """A target such as "at least 90%" (or, with at_most, "no more than 10%"): met when the whole interval is on the
    right side of it, not met when the whole interval is on the wrong side, otherwise (or too few) cannot tell."""
    if not 0 <= target <= 1:
        raise ValueError("a target is a proportion between 0 and 1")
    if measured.too_few or measured.interval is None:
        return Verdict.CANNOT_TELL
    low, high = measured.interval.low, measured.interval.high
    good, bad = (high <= target, low > target) if at_most else (low >= target, high < target)
    if good:
        return Verdict.MET
    if bad:
        return Verdict.NOT_MET
    return Verdict.CANNOT_TELL
