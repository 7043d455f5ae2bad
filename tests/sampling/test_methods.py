"""The sampling functions: fair (inclusion consistent with n/N), proportional, reproducible, honest about size."""

from __future__ import annotations

import hashlib
import struct

import pytest

from app.sampling.methods import (
    SamplingError,
    allocate,
    describe_precision,
    draw_from_strata,
    draw_positions,
    draw_random,
    draw_stratified,
    frame_hash,
    margin_of_error,
    sample_size,
)

# Chi-square critical values at alpha = 0.001 (tables), so these fixed-seed tests fail only on a real bias.
CHI2_0_001 = {19: 43.82, 29: 59.70}


def _chi_square(counts: list[int], expected: float) -> float:
    return sum((c - expected) ** 2 / expected for c in counts)


def test_every_case_is_equally_likely_to_be_drawn():
    frame = list(range(101, 121))  # N = 20
    n, draws = 5, 4000
    counts = dict.fromkeys(frame, 0)
    for seed in range(1, draws + 1):
        for case_id in draw_random(frame, n, seed):
            counts[case_id] += 1
    expected = draws * n / len(frame)
    assert _chi_square(list(counts.values()), expected) < CHI2_0_001[len(frame) - 1]


def test_within_strata_every_case_is_equally_likely_too():
    frame = {case_id: ("A" if case_id < 20 else "B") for case_id in range(30)}  # 20 in A, 10 in B
    counts = dict.fromkeys(frame, 0)
    draws = 3000
    for seed in range(1, draws + 1):
        for case_id in draw_stratified(frame, 6, seed)[0]:
            counts[case_id] += 1
    a = [counts[i] for i in range(20)]
    b = [counts[i] for i in range(20, 30)]
    assert _chi_square(a, draws * 4 / 20) < CHI2_0_001[19] and _chi_square(b, draws * 2 / 10) < 28.0  # df 9


def test_same_seed_same_sample_different_seed_different_sample():
    frame = list(range(1000))
    assert draw_random(frame, 40, 7) == draw_random(list(reversed(frame)), 40, 7)  # input order does not matter
    assert draw_random(frame, 40, 7) != draw_random(frame, 40, 8)
    assert len(set(draw_random(frame, 40, 7))) == 40


def test_draws_are_the_same_on_any_machine_and_after_any_upgrade():
    """Pinned results: a sample stored last year must draw the same cases again from the same frame and seed."""
    assert draw_random(range(1, 501), 8, 2026) == [6, 67, 108, 260, 262, 392, 445, 483]
    frame = {i: ("North" if i % 3 else "South") for i in range(1, 301)}
    assert draw_stratified(frame, 7, 99, minimum=2)[0] == [40, 88, 140, 164, 213, 258, 296]
    # The frame hash: SHA-256 of the sorted IDs, each packed as an 8-byte big-endian integer.
    assert frame_hash([5, 3, 1]) == hashlib.sha256(struct.pack(">3q", 1, 3, 5)).hexdigest()
    assert frame_hash([5, 3, 1]) == "cf0bfa50f251806f5313b75e53e9a22c4f84f205681bce1633f828fe4fde81f8"


def test_drawing_from_sorted_strata_is_the_same_draw():
    frame = {i: ("North" if i % 3 else "South") for i in range(1, 301)}
    strata = {"North": [i for i in frame if i % 3], "South": [i for i in frame if not i % 3]}
    assert draw_from_strata(strata, 7, 99, minimum=2) == draw_stratified(frame, 7, 99, minimum=2)
    assert draw_positions(5, 9, 1) == [0, 1, 2, 3, 4]  # a stratum smaller than its share is taken whole
    with pytest.raises(SamplingError, match="cannot be negative"):
        draw_positions(5, -1, 1)


def test_a_frame_smaller_than_the_sample_is_taken_whole():
    assert draw_random([3, 1, 2], 10, 1) == [1, 2, 3]


def test_allocation_is_proportional_by_largest_remainder_and_sums_to_n():
    sizes = {"A": 500, "B": 300, "C": 150, "D": 50}
    counts = allocate(sizes, 40)
    assert counts == {"A": 20, "B": 12, "C": 6, "D": 2}
    odd = allocate({"A": 10, "B": 10, "C": 10}, 10)
    assert sum(odd.values()) == 10 and sorted(odd.values()) == [3, 3, 4]
    for n in range(0, 60):
        counts = allocate({"x": 37, "y": 13, "z": 4, "w": 1}, n)
        assert sum(counts.values()) == min(n, 55)
        for key, size in {"x": 37, "y": 13, "z": 4, "w": 1}.items():
            assert abs(counts[key] - n * size / 55) < 1 + 1e-9 or n >= 55  # within one case of proportional


def test_a_minimum_per_stratum_is_respected_and_the_total_kept():
    sizes = {"Team 1": 400, "Team 2": 300, "Team 3": 20, "Team 4": 1}
    counts = allocate(sizes, 30, minimum=2)
    assert sum(counts.values()) == 30
    assert counts["Team 3"] >= 2 and counts["Team 4"] == 1  # a stratum of one gives its one case
    assert counts["Team 1"] > counts["Team 2"] > counts["Team 3"]


def test_minima_larger_than_the_sample_are_refused_with_a_reason():
    with pytest.raises(SamplingError, match="A minimum of 5 in each of 4 strata needs 20 cases, more than the sample"):
        allocate({"A": 10, "B": 10, "C": 10, "D": 10}, 12, minimum=5)


def test_stratified_draw_reports_each_stratum():
    frame = {i: f"Team {i % 3}" for i in range(90)}
    ids, strata = draw_stratified(frame, 9, seed=42, minimum=2)
    assert len(ids) == 9 and [(s.value, s.frame_size, s.sample_size) for s in strata] == [
        ("Team 0", 30, 3),
        ("Team 1", 30, 3),
        ("Team 2", 30, 3),
    ]
    assert all(frame[i] in {"Team 0", "Team 1", "Team 2"} for i in ids)
    assert draw_stratified(frame, 9, seed=42, minimum=2)[0] == ids


def test_the_frame_hash_ignores_order_and_changes_with_the_frame():
    assert frame_hash([3, 1, 2]) == frame_hash([1, 2, 3])
    assert frame_hash([1, 2, 3]) != frame_hash([1, 2, 4])
    assert len(frame_hash([])) == 64


def test_sample_size_with_the_finite_population_correction():
    assert sample_size(10_000_000, confidence=0.95, margin=0.05) == 385  # the textbook figure
    assert sample_size(312, margin=0.1) == 74
    assert sample_size(20, margin=0.1) == 17  # a small frame needs most of itself
    assert sample_size(0) == 0
    with pytest.raises(SamplingError, match=r"margin of error must be from 0\.001 to under 1"):
        sample_size(100, margin=0)
    with pytest.raises(SamplingError, match="confidence level"):
        sample_size(100, confidence=1.5)


def test_a_confidence_a_hair_below_one_gives_a_size_instead_of_failing():
    # 0.5 + 0.9999999999999999 / 2 rounds to 1.0, where the normal quantile is infinite (the fuzzer's 500).
    assert sample_size(4526, confidence=0.9999999999999999) == 1247
    assert sample_size(300, confidence=0.9999999999999999) == 256
    assert margin_of_error(10, 4526, confidence=0.9999999999999999) > 1


def test_precision_is_described_in_words():
    assert describe_precision(40, 312) == "n = 40 gives ±14 points at 95% for a frame of 312"
    assert (
        describe_precision(10, 5) == "n = 10 takes every case in the frame of 5: the result is exact, not an estimate"
    )
    assert margin_of_error(312, 312) == 0
