"""What a sample can and cannot say: rates with Wilson score intervals (with the finite population correction when
the sample was drawn from a known frame), "too few to judge", comparisons that claim a difference only when the
intervals do not overlap, and targets judged met, not met or "cannot tell". Pure functions, no database.

The Wilson interval for x successes in n is the set of p with |x/n - p| <= z * sqrt(p(1-p)/n): unlike the
textbook p ± z·se it never leaves [0, 1] and behaves at 0/n and n/n. Sampling m cases of a frame of N without
replacement shrinks the variance by f = (N - m) / (N - 1); solving the same inequality with z²·f in place of z²
gives the corrected interval, which closes to the observed rate when the whole frame was audited. What is sampled
is the case, so m counts the audited cases, never their answers.

Answers come in audits (clusters). A rate with at most one answer per audit (a question) is a plain proportion of
audits: Wilson as above. A rate pooling several answers per audit (a section, all the questions, a team) is a
ratio estimate, yes ÷ (yes + no) over the audits, and answers within one case file move together, so it is not
worth as many independent answers as it has. `clustered_rate` uses Wilson on the effective sample size (Korn and
Graubard 1998; Dean and Pagano 2015):

- the design effect deff = v_cluster / v_binomial, where v_cluster = m/(m-1) · Σ(y_i - p·n_i)² / (Σn_i)² is the
  ratio estimator's variance across the m audits (y_i yes and n_i yes-or-no answers of audit i) and v_binomial
  = p(1-p) / Σn_i, floored at 1 (answers never count for more than independent ones);
- both worked out with one added pseudo-audit answered half yes, weighing half an audit of average size (as
  Wilson's interval itself pulls towards ½): otherwise a handful of audits all answered yes would show no spread
  at all, and claim the precision of independent answers;
- effective n = Σn_i / deff, scaled by (z / t_m)² for the few audits the spread is estimated from (t with m
  degrees of freedom: the audits plus the pseudo-audit, less one);
- Wilson at the observed rate with that n and the finite population correction for m of N cases.

tests/reports/test_interval_coverage.py checks by simulation that these intervals cover the true rate 93% to 99%
of the time for 10 to 200 audits of 8 questions from frames of 50, 500 and unlimited, true rates 60% to 85% and
intra-case correlation 0 to 0.5, where pooling answers as independent covers as little as 50%. Outside that grid
(a wider sweep, kept out of the suite for time): with 20 questions per audit, rates of 90% to 95% and little
correlation, ten audits' intervals are wider than needed (coverage up to 99.9%); at a 90% rate with correlation
0.5 coverage can dip to about 92.5%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
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
    # The lower tail: 1 - (1 - confidence) / 2 rounds to 1 (and inv_cdf fails) for a confidence within 1e-16 of 1.
    return -NormalDist().inv_cdf((1 - confidence) / 2)


def finite_population_factor(n: int, population: int | None) -> float:
    """(N - n) / (N - 1) for n cases sampled of a frame of N: 1 for an unknown or infinite frame, 0 when the whole
    frame was audited."""
    if population is None:
        return 1.0
    if population < n:
        raise ValueError(f"the frame ({population}) cannot be smaller than the sample ({n})")
    if population <= 1:
        return 0.0
    return (population - n) / (population - 1)


@lru_cache(maxsize=512)
def t_for(confidence: float, df: int) -> float:
    """The two-sided `confidence` quantile of Student's t with `df` degrees of freedom: the exact distribution
    function for whole df (Abramowitz and Stegun 26.7.3-4) inverted by bisection; above 400 df, the Cornish-Fisher
    expansion (26.7.5), which agrees to six places there."""
    z = z_for(confidence)
    if df < 1:
        raise ValueError("t needs at least one degree of freedom")
    if df > 400:
        return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df * df)
    low, high = z, z * 2
    while _t_inside(high, df) < confidence:
        low, high = high, high * 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if _t_inside(middle, df) < confidence else (low, middle)
    return (low + high) / 2


def _t_inside(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with whole `df` degrees of freedom."""
    theta = math.atan(t / math.sqrt(df))
    c2, total, term = math.cos(theta) ** 2, 1.0, 1.0
    if df % 2:
        if df == 1:
            return 2 * theta / math.pi
        for k in range(1, (df - 3) // 2 + 1):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        return 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    for k in range(1, (df - 2) // 2 + 1):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return math.sin(theta) * total


def _wilson(p: float, n: float, z2: float) -> Interval:
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) * math.sqrt(z2) / (1 + z2 / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def wilson(
    successes: int,
    n: int,
    *,
    population: int | None = None,
    sampled: int | None = None,
    confidence: float = 0.95,
) -> Interval | None:
    """The Wilson score interval for successes/n (None when n is 0), corrected for `sampled` cases (default n) of
    a finite frame of `population`."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError("need 0 <= successes <= n")
    if n == 0:
        return None
    z2 = z_for(confidence) ** 2 * finite_population_factor(n if sampled is None else sampled, population)
    return _wilson(successes / n, n, z2)


@dataclass(frozen=True)
class Spread:
    """How a rate's answers fall into audits: the sums over the audits of y_i², y_i·n_i and n_i² (y_i yes answers
    and n_i yes-or-no answers of audit i), and how many audits have any yes or no answer. They add up over
    disjoint sets of audits, so groups of audits combine exactly."""

    audits: int = 0
    yy: int = 0
    yn: int = 0
    nn: int = 0


PSEUDO_WEIGHT = 0.5  # the pseudo-audit counts as half an audit of average size (see the module docstring)


def design_effect(yes: int, n: int, spread: Spread) -> float:
    """How much wider than independent answers the rate's variance is (at least 1), from the spread of the
    audits' own rates with a pseudo-audit answered half yes (see the module docstring)."""
    if n <= 0 or spread.audits < 1:
        return 1.0
    size = PSEUDO_WEIGHT * n / spread.audits  # answers of the pseudo-audit, half of them yes
    m, total = spread.audits + 1, n + size
    p = (yes + size / 2) / total
    residuals = spread.yy - 2 * p * spread.yn + p * p * spread.nn + (size / 2 - p * size) ** 2 / PSEUDO_WEIGHT
    v_cluster = m / (m - 1) * max(residuals, 0.0) / (total * total)
    return max(1.0, v_cluster / (p * (1 - p) / total))


@dataclass(frozen=True)
class Rate:
    """yes ÷ (yes + no), with n, its interval and whether n is too small to judge."""

    yes: int
    n: int
    interval: Interval | None
    population: int | None  # the frame, when the finite population correction was used
    too_few: bool
    sampled: int | None = None  # the cases sampled of that frame (the correction's m)
    audits: int | None = None  # the audits the answers come from, when several answers come from one audit
    design_effect: float | None = None  # how much the answers' clustering in audits widened the interval

    @property
    def effective_n(self) -> float | None:
        """The independent answers the rate is worth, once clustered in audits."""
        return self.n / self.design_effect if self.design_effect else None

    @property
    def value(self) -> float | None:
        return self.yes / self.n if self.n else None

    @property
    def corrected(self) -> bool:
        return self.population is not None


def rate(
    yes: int,
    no: int,
    *,
    population: int | None = None,
    sampled: int | None = None,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> Rate:
    """A rate of one answer per audit (a question's compliance, a grade's share): Wilson, corrected for `sampled`
    cases (default: one per answer) of a frame of `population` (not applicable answers are left out before this:
    they are neither yes nor no)."""
    n = yes + no
    sampled = n if sampled is None else sampled
    if population is not None and population < max(sampled, n):
        population = None  # a frame smaller than the sample is not this sample's frame: no correction
    return Rate(
        yes=yes,
        n=n,
        interval=wilson(yes, n, population=population, sampled=sampled, confidence=confidence),
        population=population,
        too_few=n < min_n,
        sampled=sampled if population is not None else None,
    )


def clustered_rate(
    yes: int,
    no: int,
    spread: Spread,
    *,
    population: int | None = None,
    sampled: int | None = None,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
) -> Rate:
    """A rate pooling the answers of audits (a section, every question, a team): Wilson on the effective sample
    size, corrected for `sampled` cases (default: the audits answering) of a frame of `population` (see the module
    docstring). With at most one answer per audit it is `rate`."""
    n = yes + no
    if n == 0 or spread.nn <= n:  # no answers, or none shares an audit with another: a plain proportion
        return rate(yes, no, population=population, sampled=sampled or spread.audits or None, min_n=min_n)
    sampled = spread.audits if sampled is None else sampled
    if population is not None and population < sampled:
        population = None
    deff = design_effect(yes, n, spread)
    z = z_for(confidence)
    effective = n / deff * (z / t_for(confidence, spread.audits)) ** 2
    z2 = z * z * finite_population_factor(sampled, population)
    return Rate(
        yes=yes,
        n=n,
        interval=_wilson(yes / n, effective, z2),
        population=population,
        too_few=n < min_n,
        sampled=sampled if population is not None else None,
        audits=spread.audits,
        design_effect=deff,
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
