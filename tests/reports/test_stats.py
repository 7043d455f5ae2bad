"""The report statistics against known values: Wilson intervals (published figures), the finite population
correction (each end solves the corrected inequality; a whole frame gives no uncertainty), "too few to judge",
comparisons by interval overlap, and targets met, not met or cannot tell."""

from __future__ import annotations

import pytest

from app.reports.stats import (
    Difference,
    Interval,
    Spread,
    Verdict,
    against_target,
    clustered_rate,
    compare,
    design_effect,
    finite_population_factor,
    ranked,
    rate,
    t_for,
    wilson,
    z_for,
)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),  # Wilson's example values, as statsmodels' proportion_confint(method="wilson") gives
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
        (1, 3, 0.0615, 0.7923),
    ],
)
def test_wilson_interval_known_values(x, n, low, high):
    interval = wilson(x, n)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=5e-5) and interval.high == pytest.approx(high, abs=5e-5)


def test_no_answers_no_interval():
    assert wilson(0, 0) is None
    assert rate(0, 0).value is None and rate(0, 0).too_few


@pytest.mark.parametrize(("x", "n", "population"), [(8, 10, 20), (45, 50, 120), (3, 12, 13), (30, 40, 1000)])
def test_finite_population_correction_solves_the_corrected_inequality(x, n, population):
    interval = wilson(x, n, population=population)
    plain = wilson(x, n)
    assert interval is not None and plain is not None
    p_hat, z2f = x / n, z_for(0.95) ** 2 * (population - n) / (population - 1)
    for p in (interval.low, interval.high):
        if 0 < p < 1:  # each end is where |p_hat - p| = z * sqrt(f * p (1 - p) / n)
            assert (p_hat - p) ** 2 == pytest.approx(z2f * p * (1 - p) / n, rel=1e-9)
    assert plain.low < interval.low <= p_hat <= interval.high < plain.high  # narrower, around the rate


def test_a_whole_frame_audited_has_no_uncertainty():
    assert wilson(8, 10, population=10) == Interval(0.8, 0.8)
    assert finite_population_factor(10, 10) == 0.0
    assert finite_population_factor(10, None) == 1.0
    with pytest.raises(ValueError, match="cannot be smaller"):
        finite_population_factor(10, 9)


def test_a_frame_smaller_than_the_answers_is_not_used():
    r = rate(8, 4, population=5)  # 12 answers cannot come from a frame of 5: not this sample's frame
    assert not r.corrected and r.interval == wilson(8, 12)


def test_corrected_rate_says_so():
    r = rate(45, 5, population=120)
    assert r.corrected and r.population == 120 and r.value == 0.9 and not r.too_few


def test_too_few_to_judge_below_the_minimum_and_never_ranked():
    assert rate(9, 0).too_few and not rate(9, 1).too_few  # default minimum n = 10
    assert rate(4, 1, min_n=5).too_few is False
    rates = {"Team A": rate(18, 2), "Team B": rate(9, 0), "Team C": rate(12, 8)}
    assert [key for key, _ in ranked(rates)] == ["Team A", "Team C"]


def test_a_difference_is_claimed_only_when_the_intervals_do_not_overlap():
    high, low = rate(95, 5), rate(50, 50)
    assert compare(high, low) is Difference.HIGHER and compare(low, high) is Difference.LOWER
    assert compare(rate(18, 2), rate(15, 5)) is Difference.NO_CLEAR_DIFFERENCE  # 90% v 75% on 20 each: overlap
    assert compare(rate(9, 0), rate(0, 20)) is Difference.CANNOT_TELL


@pytest.mark.parametrize(
    ("yes", "no", "target", "at_most", "verdict"),
    [
        (198, 2, 0.90, False, Verdict.MET),  # 99% of 200: the whole interval is above 90%
        (60, 40, 0.90, False, Verdict.NOT_MET),  # 60% of 100: all below
        (18, 2, 0.90, False, Verdict.CANNOT_TELL),  # 90% of 20: the interval straddles it
        (2, 98, 0.10, True, Verdict.MET),  # "no more than 10% Inadequate": 2% of 100
        (30, 70, 0.10, True, Verdict.NOT_MET),
        (9, 0, 0.50, False, Verdict.CANNOT_TELL),  # too few to judge
    ],
)
def test_targets(yes, no, target, at_most, verdict):
    assert against_target(rate(yes, no), target, at_most=at_most) is verdict


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        wilson(11, 10)
    with pytest.raises(ValueError):
        z_for(1.5)
    assert z_for(0.9999999999999999) == pytest.approx(8.29, abs=0.01)  # finite, where 1 - (1 - c) / 2 gives 1.0
    with pytest.raises(ValueError):
        against_target(rate(5, 5), 90)


# --- Answers clustered in audits (issue 18) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "t"), [(1, 12.7062), (2, 4.3027), (3, 3.1824), (9, 2.2622), (10, 2.2281), (30, 2.0423), (120, 1.9799)]
)
def test_t_quantiles_match_the_published_table(df, t):
    assert t_for(0.95, df) == pytest.approx(t, abs=5e-5)


def test_t_quantiles_join_the_large_sample_expansion_smoothly():
    assert t_for(0.95, 400) > t_for(0.95, 401) > t_for(0.95, 10_000) > z_for(0.95)
    assert t_for(0.95, 401) == pytest.approx(1.9659, abs=1e-4)


def test_the_design_effect_is_one_for_audits_alike_and_grows_with_their_spread():
    # 20 audits of 4 answers: all 2 of 4 yes (no spread beyond chance), or half 4/4 and half 0/4 (all spread).
    alike = Spread(audits=20, yy=20 * 4, yn=20 * 8, nn=20 * 16)
    apart = Spread(audits=20, yy=10 * 16, yn=10 * 16, nn=20 * 16)
    assert design_effect(40, 80, alike) == 1.0
    assert design_effect(40, 80, apart) == pytest.approx(4.0, abs=0.2)  # answers of one audit all alike: its size
    wide, narrow = clustered_rate(40, 40, apart), clustered_rate(40, 40, alike)
    assert wide.interval and narrow.interval
    assert wide.interval.high - wide.interval.low > 1.5 * (narrow.interval.high - narrow.interval.low)


def test_one_answer_per_audit_is_a_plain_wilson_interval():
    """A question: each audit answers it once, so the clustered rate is Wilson's, corrected for the cases."""
    spread = Spread(audits=15, yy=12, yn=12, nn=15)
    assert clustered_rate(12, 3, spread, population=50, sampled=20).interval == wilson(
        12, 15, population=50, sampled=20
    )
    assert clustered_rate(12, 3, spread).design_effect is None
