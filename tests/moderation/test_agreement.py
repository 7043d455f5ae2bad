"""The agreement statistics against published figures, a hand-worked table and an independent formula."""

from __future__ import annotations

import random

import pytest

from app.moderation.agreement.kappa import (
    GRADES,
    NO_PAIRS,
    ONE_CATEGORY,
    agreement_flag,
    agreement_of,
    agreement_weights,
    cross_table,
    weighted_kappa,
)

O, G, RI, I = GRADES  # outstanding, good, requires improvement, inadequate

# SAS/STAT PROC FREQ (AGREE) printout for this 3 x 3 table, as quoted in statsmodels' tests
# (statsmodels/stats/tests/test_inter_rater.py): simple kappa and Cicchetti-Allison (linear) weighted kappa
# with the asymptotic standard error of Fleiss, Cohen and Everitt (1969) and 95% confidence limits.
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
SAS_SIMPLE = (0.4842, 0.1380, 0.2137, 0.7547)
SAS_LINEAR = (0.4701, 0.1457, 0.1845, 0.7558)

# R irr::kappa2(anxiety[, 2:3], "squared") = 0.2520325 (also in statsmodels' tests): quadratic weights over
# the five levels the two raters used (1, 2, 3, 4, 6).
ANXIETY_RATER2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_RATER3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]
R_IRR_SQUARED = 0.2520325


def quadratic_kappa_by_moments(pairs: list[tuple[str, str]]) -> float:
    """Quadratic weighted kappa worked out another way: 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2), with the
    grades numbered 0 to 3 and moments divided by n (an identity of Fleiss and Cohen 1973)."""
    x = [GRADES.index(a) for a, _ in pairs]
    y = [GRADES.index(b) for _, b in pairs]
    n = len(pairs)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / n
    sxx = sum((a - mx) ** 2 for a in x) / n
    syy = sum((b - my) ** 2 for b in y) / n
    return 2 * sxy / (sxx + syy + (mx - my) ** 2)


# --- Published figures -------------------------------------------------------------------------


def test_simple_kappa_and_its_standard_error_match_sas():
    result = weighted_kappa(SAS_TABLE, "none")
    assert result is not None
    assert (result.kappa, result.standard_error, result.low, result.high) == pytest.approx(SAS_SIMPLE, abs=5e-5)


def test_linear_weighted_kappa_and_the_fleiss_cohen_everitt_interval_match_sas():
    result = weighted_kappa(SAS_TABLE, "linear")
    assert result is not None
    assert (result.kappa, result.standard_error, result.low, result.high) == pytest.approx(SAS_LINEAR, abs=5e-5)


def test_quadratic_weighted_kappa_matches_r_irr():
    levels = ["1", "2", "3", "4", "6"]
    result = agreement_of([(str(a), str(b)) for a, b in zip(ANXIETY_RATER2, ANXIETY_RATER3, strict=True)], levels)
    assert result.n == 20
    assert result.agreed == 4 and result.exact_agreement == pytest.approx(0.2)
    assert result.weighted_kappa == pytest.approx(R_IRR_SQUARED, abs=1e-7)
    low, high = result.interval
    assert low < R_IRR_SQUARED < high


def test_quadratic_weights_are_fleiss_cohen_weights():
    expected = [[1, 8 / 9, 5 / 9, 0], [8 / 9, 1, 8 / 9, 5 / 9], [5 / 9, 8 / 9, 1, 8 / 9], [0, 5 / 9, 8 / 9, 1]]
    for row, wanted in zip(agreement_weights(4), expected, strict=True):
        assert row == pytest.approx(wanted)


# --- Grades, worked by hand ----------------------------------------------------------------------


def test_a_hand_worked_table_of_grades():
    # Two agreements and two one-grade misses between Requires improvement and Inadequate.
    # P_o = (1 + 1 + 8/9 + 8/9) / 4 = 17/18; every margin is 1/4, so P_e = (4 + 6 * 8/9 + 4 * 5/9) / 16 = 13/18;
    # kappa = (17/18 - 13/18) / (5/18) = 0.8.
    pairs = [(O, O), (G, G), (RI, I), (I, RI)]
    result = agreement_of(pairs)
    assert result.n == 4 and result.agreed == 2 and result.exact_agreement == 0.5
    assert result.kappa.observed == pytest.approx(17 / 18)
    assert result.kappa.expected == pytest.approx(13 / 18)
    assert result.weighted_kappa == pytest.approx(0.8)
    assert quadratic_kappa_by_moments(pairs) == pytest.approx(0.8)


@pytest.mark.parametrize("seed", range(8))
def test_quadratic_kappa_agrees_with_the_moments_formula(seed):
    rng = random.Random(seed)
    pairs = []
    for _ in range(rng.randint(5, 60)):
        first = rng.choice(GRADES)
        # the moderator mostly agrees, sometimes one grade off, rarely anything
        step = rng.choice([0, 0, 0, 1, -1, rng.randint(-3, 3)])
        pairs.append((first, GRADES[min(3, max(0, GRADES.index(first) + step))]))
    result = agreement_of(pairs)
    assert result.weighted_kappa == pytest.approx(quadratic_kappa_by_moments(pairs), abs=1e-12)
    assert result.exact_agreement == pytest.approx(sum(a == b for a, b in pairs) / len(pairs))


def test_a_one_grade_miss_costs_less_than_a_three_grade_miss():
    near = agreement_of([(O, O), (G, G), (RI, RI), (I, I), (G, RI)])
    far = agreement_of([(O, O), (G, G), (RI, RI), (I, I), (O, I)])
    assert near.exact_agreement == far.exact_agreement == 0.8
    assert near.weighted_kappa > far.weighted_kappa


def test_kappa_does_not_depend_on_who_is_first():
    pairs = [(O, G), (G, G), (RI, G), (I, RI), (RI, RI), (G, O)]
    forward = agreement_of(pairs)
    backward = agreement_of([(b, a) for a, b in pairs])
    assert forward.weighted_kappa == pytest.approx(backward.weighted_kappa)
    assert forward.interval == pytest.approx(backward.interval)


def test_perfect_agreement_and_complete_reversal():
    perfect = agreement_of([(O, O), (G, G), (RI, RI), (I, I)])
    assert perfect.weighted_kappa == pytest.approx(1.0)
    assert perfect.interval == pytest.approx((1.0, 1.0))
    reversed_ = agreement_of([(O, I), (I, O)])
    assert reversed_.weighted_kappa == pytest.approx(-1.0)
    assert reversed_.interval[0] >= -1.0  # clipped to kappa's range


# --- Edge cases --------------------------------------------------------------------------------


def test_no_pairs_gives_no_figures_and_says_why():
    result = agreement_of([])
    assert (result.n, result.exact_agreement, result.weighted_kappa, result.interval) == (0, None, None, None)
    assert result.note == NO_PAIRS == "No moderated audits yet"
    assert weighted_kappa([[0, 0], [0, 0]]) is None


def test_every_pair_in_one_grade_leaves_kappa_undefined():
    result = agreement_of([(G, G)] * 6)
    assert result.n == 6 and result.exact_agreement == 1.0
    assert result.weighted_kappa is None and result.interval is None
    assert result.note == ONE_CATEGORY and "undefined" in result.note
    single = agreement_of([(RI, RI)])
    assert single.weighted_kappa is None and single.exact_agreement == 1.0


def test_each_always_giving_one_different_grade_is_no_better_than_chance():
    result = agreement_of([(G, RI)] * 5)
    assert result.exact_agreement == 0.0
    assert result.weighted_kappa == pytest.approx(0.0)
    assert result.note is None


def test_values_that_are_not_grades_are_left_out():
    assert cross_table([(G, G), ("excellent", G), (G, None), (I, O)]) == [
        [0, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 0],
        [1, 0, 0, 0],
    ]
    assert agreement_of([(G, G), ("", G)]).n == 1


def test_a_table_that_is_not_square_is_refused():
    with pytest.raises(ValueError):
        weighted_kappa([[1, 2], [3]])


# --- The refresher-training flag ---------------------------------------------------------------


def test_the_flag_needs_enough_pairs_and_low_agreement():
    low = agreement_of([(O, I), (G, G), (RI, O), (I, G), (G, RI)])
    assert low.interval[1] < 0.4  # even the upper bound is below the threshold
    assert agreement_flag(low, min_pairs=5, low=0.4) == "flagged"
    assert agreement_flag(low, min_pairs=6, low=0.4) == "not_enough_to_tell"
    good = agreement_of([(O, O), (G, G), (RI, RI), (I, I), (G, RI)])
    assert good.interval[0] >= 0.4
    assert agreement_flag(good, min_pairs=5, low=0.4) == "ok"
    assert agreement_flag(agreement_of([]), min_pairs=1, low=0.4) == "not_enough_to_tell"


def test_the_flag_falls_back_to_exact_agreement_when_kappa_is_undefined():
    same = agreement_of([(G, G)] * 5)
    assert same.weighted_kappa is None
    assert agreement_flag(same, min_pairs=5, low=0.4) == "ok"
    assert agreement_flag(same, min_pairs=5, low=1.01) == "flagged"  # judged on exact agreement (1.0)
