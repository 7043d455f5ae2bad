"""Proof by simulation that a section's (or any pooled) compliance interval is honest (issue 18).

Audits are simulated with case-level variation: each case file has its own compliance p_i drawn from a beta
distribution with mean μ and intra-case correlation ρ (beta-binomial: a = μ(1-ρ)/ρ, b = (1-μ)(1-ρ)/ρ), and 8
compliance questions, each not applicable one time in ten, answered yes with probability p_i. From a frame of 50 or
500 such cases m are sampled without replacement (the true rate is then the frame's own, yes ÷ (yes + no) over all
its cases), or from an unlimited frame (the true rate is μ).

Over 2,000 replications of each design, the 95% interval of `stats.clustered_rate` must cover the true rate at
least 93% and at most 99% of the time. Pooling the answers as independent draws with the correction counted in
answers (the method before issue 18: `stats.rate` over the answers) is shown to fail the same designs.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.reports.stats import Spread, clustered_rate, rate

REPLICATIONS = 3000  # at least 2,000; 3,000 keeps the estimate's own noise (±0.2% at 99%) off the bounds
QUESTIONS = 8
NOT_APPLICABLE = 0.1
RATES = (0.6, 0.75, 0.85)
CORRELATIONS = (0.0, 0.1, 0.25, 0.5)
# (frame, audits sampled): 10 to 200 audits; a frame of 50 cannot give 100.
DESIGNS = [(50, 10), (50, 30), (500, 10), (500, 30), (500, 100), (500, 200), (None, 10), (None, 30), (None, 100)]
DESIGNS += [(None, 200)]


def _cases(rng: np.random.Generator, shape: tuple[int, ...], mu: float, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Yes and yes-or-no answers per simulated case file."""
    p = np.full(shape, mu) if rho == 0 else rng.beta(mu * (1 - rho) / rho, (1 - mu) * (1 - rho) / rho, size=shape)
    applicable = rng.random((*shape, QUESTIONS)) >= NOT_APPLICABLE
    yes = (rng.random((*shape, QUESTIONS)) < p[..., None]) & applicable
    return yes.sum(axis=-1), applicable.sum(axis=-1)


def _replications(seed: int, mu: float, rho: float, frame: int | None, m: int) -> tuple[np.ndarray, ...]:
    """Per replication: the sampled audits' yes and yes-or-no answers (replications × m) and the true rate."""
    rng = np.random.default_rng(seed)
    if frame is None:
        yes, n = _cases(rng, (REPLICATIONS, m), mu, rho)
        return yes, n, np.full(REPLICATIONS, mu)
    yes, n = _cases(rng, (REPLICATIONS, frame), mu, rho)
    truth = yes.sum(axis=1) / n.sum(axis=1)
    drawn = np.argsort(rng.random((REPLICATIONS, frame)), axis=1)[:, :m]  # m of the frame, without replacement
    return np.take_along_axis(yes, drawn, axis=1), np.take_along_axis(n, drawn, axis=1), truth


def _coverage(yes: np.ndarray, n: np.ndarray, truth: np.ndarray, frame: int | None, *, pooled: bool) -> float:
    covered = 0
    for y_i, n_i, true in zip(yes, n, truth, strict=True):
        y, total = int(y_i.sum()), int(n_i.sum())
        if pooled:
            found = rate(y, total - y, population=frame)
        else:
            spread = Spread(
                audits=int((n_i > 0).sum()),
                yy=int((y_i * y_i).sum()),
                yn=int((y_i * n_i).sum()),
                nn=int((n_i * n_i).sum()),
            )
            found = clustered_rate(y, total - y, spread, population=frame, sampled=len(n_i))
        assert found.interval is not None
        covered += found.interval.low - 1e-12 <= true <= found.interval.high + 1e-12
    return covered / len(truth)


def _designs() -> list[tuple[float, float, int | None, int]]:
    return [(mu, rho, frame, m) for mu in RATES for rho in CORRELATIONS for frame, m in DESIGNS]


def test_clustered_intervals_cover_the_true_rate_93_to_99_percent_of_the_time() -> None:
    failures, seen = [], []
    for seed, (mu, rho, frame, m) in enumerate(_designs()):
        yes, n, truth = _replications(seed, mu, rho, frame, m)
        coverage = _coverage(yes, n, truth, frame, pooled=False)
        seen.append(coverage)
        if not 0.93 <= coverage <= 0.99:
            failures.append(f"rate {mu}, correlation {rho}, frame {frame}, {m} audits: {coverage:.3f}")
    print(f"{len(seen)} designs × {REPLICATIONS} replications: coverage {min(seen):.3f} to {max(seen):.3f}")
    assert not failures, failures


def test_pooling_answers_as_independent_fails_the_same_designs() -> None:
    """Today's method before issue 18: with case-level correlation its intervals cover far less than 95%."""
    found = {}
    for seed, (mu, rho, frame, m) in enumerate(_designs()):
        if rho in (0.25, 0.5) and m in (30, 100):
            yes, n, truth = _replications(seed, mu, rho, frame, m)
            found[(mu, rho, frame, m)] = _coverage(yes, n, truth, frame, pooled=True)
    assert min(found.values()) < 0.7
    failing = [design for design, coverage in found.items() if coverage < 0.93]
    assert len(failing) >= 0.8 * len(found), found


@pytest.mark.parametrize("audits", [3, 10, 41])
def test_a_handful_of_fully_compliant_audits_is_not_worth_as_many_independent_answers(audits: int) -> None:
    """The issue's example: 3 audits of 8 yes answers from a frame of 52 cases were reported as 91.9%–100%,
    narrower than a plain Wilson interval on 24 independent answers; what was sampled is 3 cases."""
    answers = 8 * audits
    spread = Spread(audits=audits, yy=audits * 64, yn=audits * 64, nn=audits * 64)
    clustered = clustered_rate(answers, 0, spread)
    independent = rate(answers, 0)
    assert clustered.interval and independent.interval
    assert clustered.value == 1.0 and clustered.interval.high == pytest.approx(1.0)
    assert clustered.interval.low < independent.interval.low
    assert clustered.design_effect is not None and clustered.design_effect > 1


def test_the_frame_correction_counts_sampled_cases_not_answers() -> None:
    """3 audits of 8 yes answers from a frame of 52 cases: the correction is for 3 of 52 cases (factor 49/51),
    not 24 answers (28/51), and the interval is wider than Wilson on 24 independent answers."""
    spread = Spread(audits=3, yy=3 * 64, yn=3 * 64, nn=3 * 64)
    before = rate(24, 0, population=52)  # what the reports said: 100% (91.9%–100%)
    now = clustered_rate(24, 0, spread, population=52, sampled=3)
    uncorrected = clustered_rate(24, 0, spread)
    assert before.interval and now.interval and uncorrected.interval
    assert round(before.interval.low, 3) == 0.919
    assert now.sampled == 3 and now.population == 52
    assert now.interval.low < 0.5 < before.interval.low
    assert uncorrected.interval.low < now.interval.low  # the correction still narrows a little


def test_answers_outnumbering_the_frame_keep_the_correction() -> None:
    """41 audits of a frame of 218 cases with 158 answers in a section: corrected for 41 of 218 cases (before, the
    correction was silently dropped or counted 158 answers)."""
    spread = Spread(audits=41, yy=41 * 9, yn=41 * 12, nn=41 * 16)  # each audit: 3 yes of 4 answers
    corrected = clustered_rate(123, 41, spread, population=218, sampled=41)
    assert corrected.population == 218 and corrected.sampled == 41
    spread_too = clustered_rate(123, 41, spread, population=100, sampled=41)
    assert spread_too.population == 100  # more answers (164) than the frame's cases: still corrected
    assert corrected.interval and spread_too.interval
    assert spread_too.interval.high - spread_too.interval.low < corrected.interval.high - corrected.interval.low
