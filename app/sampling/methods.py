"""Drawing samples an inspector would accept as fair: pure, reproducible functions used by the UI and the API.

- Reproducible: the frame is sorted before drawing and every random choice comes from a generator seeded
  from the sample's seed (and the stratum's name), so the same frame, spec and seed give the same cases on any
  machine and Python version (`random.Random` seeded with a string hashes it with SHA-512: stable).
- The frame is summarised by a SHA-256 of its sorted case IDs, so a reviewer can check the draw was made
  from the frame claimed.
- Stratified allocation is proportional by largest remainder, with an optional minimum per stratum
  (never more than the stratum holds), and the total is always respected.
- Sample size for estimating a compliance rate: normal approximation with the finite population correction.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

K = TypeVar("K", bound=Hashable)


class SamplingError(ValueError):
    """A sample that cannot be drawn as asked; the message says why, for the QA lead."""


def new_seed() -> int:
    """A seed for a draw the QA lead did not give one for (stored with the sample)."""
    return secrets.randbelow(2**31 - 1) + 1


def frame_hash(case_ids: Iterable[int] | NDArray[np.int64]) -> str:
    """SHA-256 of the sorted case IDs, each as an 8-byte big-endian number: the fingerprint of the frame a
    sample was drawn from. (Binary, not text: a million IDs hash in milliseconds.)"""
    ids = case_ids if isinstance(case_ids, np.ndarray) else np.fromiter(case_ids, dtype=np.int64)
    return hashlib.sha256(np.sort(ids).astype(">i8").tobytes()).hexdigest()


def _rng(seed: int, label: str = "") -> random.Random:
    return random.Random(f"{seed}:{label}")


def draw_positions(size: int, n: int, seed: int, *, label: str = "") -> list[int]:
    """Which `n` of `size` places (0-based, ascending) a simple random sample without replacement takes.

    It depends only on the size, so the frame can be handed over as sorted lists and only the chosen places
    looked up: the same positions `random.sample` would pick from a list of that size.
    """
    if n < 0:
        raise SamplingError("The sample size cannot be negative")
    if n >= size:
        return list(range(size))
    return sorted(_rng(seed, label).sample(range(size), n))


def draw_random(frame: Iterable[int], n: int, seed: int, *, label: str = "") -> list[int]:
    """A simple random sample without replacement of `n` case IDs (all of them if the frame is smaller)."""
    ordered = sorted(set(frame))
    return [ordered[place] for place in draw_positions(len(ordered), n, seed, label=label)]


def allocate(sizes: Mapping[K, int], n: int, *, minimum: int = 0) -> dict[K, int]:
    """How many to draw from each stratum: proportional to its size by largest remainder, at least `minimum`
    (or the whole stratum if smaller), summing to `n` (or to the whole frame if it is smaller than `n`).

    Ties in the remainders go to the larger stratum, then to the stratum that sorts first, so the result is
    the same however the strata are listed.
    """
    if n < 0 or minimum < 0:
        raise SamplingError("The sample size and the minimum per stratum cannot be negative")
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    floors = {k: min(minimum, size) for k, size in sizes.items()}
    if sum(floors.values()) > n:
        raise SamplingError(
            f"A minimum of {minimum} in each of {sum(1 for s in sizes.values() if s)} strata needs "
            f"{sum(floors.values())} cases, more than the sample size of {n}. Raise the size or lower the minimum."
        )
    # Proportional shares of n; strata whose share is below their minimum are fixed at the minimum and the
    # rest of the sample is shared out again among the others, until no share is below its floor.
    fixed: dict[K, int] = {}
    while True:
        free = {k: s for k, s in sizes.items() if k not in fixed}
        remaining = n - sum(fixed.values())
        free_total = sum(free.values())
        shares = {k: remaining * s / free_total if free_total else 0.0 for k, s in free.items()}
        below = {k for k, share in shares.items() if share < floors[k]}
        if not below:
            break
        fixed.update({k: floors[k] for k in below})
    counts = {k: min(math.floor(share), sizes[k]) for k, share in shares.items()}
    left = remaining - sum(counts.values())
    order = sorted(shares, key=lambda k: (-(shares[k] - math.floor(shares[k])), -sizes[k], str(k)))
    for k in order:
        if left <= 0:
            break
        if counts[k] < sizes[k]:
            counts[k] += 1
            left -= 1
    return {k: fixed.get(k, counts.get(k, 0)) for k in sizes}


@dataclass(frozen=True)
class Stratum:
    value: str
    frame_size: int
    sample_size: int


def draw_stratified(
    frame: Mapping[int, str], n: int, seed: int, *, minimum: int = 0
) -> tuple[list[int], list[Stratum]]:
    """A stratified sample: `frame` maps case ID -> stratum value (e.g. the team's name)."""
    by_stratum: dict[str, list[int]] = defaultdict(list)
    for case_id, value in frame.items():
        by_stratum[value].append(case_id)
    return draw_from_strata({value: sorted(ids) for value, ids in by_stratum.items()}, n, seed, minimum=minimum)


def draw_from_strata(
    strata: Mapping[str, Sequence[int] | NDArray[np.int64]], n: int, seed: int, *, minimum: int = 0
) -> tuple[list[int], list[Stratum]]:
    """`draw_stratified` for a frame already split into strata, each a sorted sequence (or array) of distinct case IDs."""
    sizes = {value: len(ids) for value, ids in strata.items()}
    counts = allocate(sizes, n, minimum=minimum)
    chosen: list[int] = []
    found = []
    for value in sorted(strata):
        ids = strata[value]
        chosen += [int(ids[place]) for place in draw_positions(len(ids), counts[value], seed, label=value)]
        found.append(Stratum(value=value, frame_size=sizes[value], sample_size=counts[value]))
    return sorted(chosen), found


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise SamplingError("The confidence level must be between 0 and 1, e.g. 0.95")
    # The lower tail: 0.5 + confidence / 2 rounds to 1 (and inv_cdf fails) for a confidence within 1e-16 of 1.
    return -NormalDist().inv_cdf((1 - confidence) / 2)


# ±0.1 points: a finer margin asks for the whole frame anyway, and a vanishing one would divide by zero.
MIN_MARGIN = 0.001


def sample_size(population: int, *, confidence: float = 0.95, margin: float = 0.1, expected: float = 0.5) -> int:
    """Cases needed to estimate a compliance rate within ±`margin` at `confidence`, for a frame of `population`
    (finite population correction). `expected` is the rate you expect; 0.5 is the cautious choice."""
    if population < 0:
        raise SamplingError("The population cannot be negative")
    if not MIN_MARGIN <= margin < 1:
        raise SamplingError("The margin of error must be from 0.001 to under 1, e.g. 0.1 for ±10 points")
    if not 0 <= expected <= 1:
        raise SamplingError("The expected rate must be between 0 and 1")
    if population == 0:
        return 0
    n0 = _z(confidence) ** 2 * expected * (1 - expected) / margin**2
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def margin_of_error(n: int, population: int, *, confidence: float = 0.95, expected: float = 0.5) -> float:
    """The ± a sample of `n` from `population` gives for a rate near `expected` (0 when the sample is the frame)."""
    if n <= 0 or population <= 0:
        raise SamplingError("The sample and the population must both have at least one case")
    n = min(n, population)
    correction = math.sqrt((population - n) / (population - 1)) if population > 1 else 0.0
    return _z(confidence) * math.sqrt(expected * (1 - expected) / n) * correction


def describe_precision(n: int, population: int, *, confidence: float = 0.95) -> str:
    """ "n = 40 gives ±14 points at 95% for a frame of 312" """
    if n >= population:
        return f"n = {n} takes every case in the frame of {population:,}: the result is exact, not an estimate"
    points = round(margin_of_error(n, population, confidence=confidence) * 100)
    return f"n = {n} gives ±{points} points at {confidence:.0%} for a frame of {population:,}"
