"""Selection rules (pure): the reproducible draw, the share it selects, and the order of reasons."""

from __future__ import annotations

import hashlib

import pytest

from app.moderation.selection import select_for_moderation, selection_draw


def test_the_draw_is_sha256_of_cycle_audit_and_round_scaled_to_0_1():
    digest = hashlib.sha256(b"7:1234:1").digest()
    assert selection_draw(7, 1234, 1) == int.from_bytes(digest[:8], "big") / 2**64
    assert selection_draw(7, 1234, 1) == selection_draw(7, 1234, 1)  # anyone can recompute it
    assert selection_draw(7, 1234, 2) != selection_draw(7, 1234, 1)  # a new round is a new draw
    assert selection_draw(8, 1234, 1) != selection_draw(7, 1234, 1)


@pytest.mark.parametrize("rate", [0.1, 0.25])
def test_over_many_audits_the_random_share_is_close_to_the_rate(rate):
    draws = [selection_draw(3, audit_id, 1) for audit_id in range(1, 20_001)]
    assert all(0 <= d < 1 for d in draws)
    picked = sum(
        select_for_moderation(
            auditor_overall="good", has_escalation=False, was_returned=False, draw=d, rate=rate
        ).selected
        for d in draws
    )
    # 20,000 audits: the standard error of the share is under 0.0031, so 0.01 is over three of them.
    assert abs(picked / len(draws) - rate) < 0.01
    again = sum(
        select_for_moderation(
            auditor_overall="good", has_escalation=False, was_returned=False, draw=selection_draw(3, a, 1), rate=rate
        ).selected
        for a in range(1, 20_001)
    )
    assert again == picked  # deterministic


def test_inadequate_and_safeguarding_are_always_moderated_whatever_the_draw():
    high = 0.999
    assert (
        select_for_moderation(
            auditor_overall="inadequate", has_escalation=False, was_returned=False, draw=high, rate=0.0
        ).reason
        == "inadequate"
    )
    assert (
        select_for_moderation(
            auditor_overall="good", has_escalation=True, was_returned=False, draw=high, rate=0.0
        ).reason
        == "safeguarding"
    )
    # Both apply: the first reason in the order is recorded.
    assert (
        select_for_moderation(
            auditor_overall="inadequate", has_escalation=True, was_returned=True, draw=0.0, rate=1.0
        ).reason
        == "inadequate"
    )


def test_random_comes_before_resubmitted_and_a_returned_audit_always_goes_back():
    assert (
        select_for_moderation(
            auditor_overall="good", has_escalation=False, was_returned=True, draw=0.05, rate=0.1
        ).reason
        == "random"
    )
    back = select_for_moderation(auditor_overall="good", has_escalation=False, was_returned=True, draw=0.9, rate=0.1)
    assert back.reason == "resubmitted" and back.selected


def test_not_selected_keeps_the_draw_and_rate_for_the_record():
    outcome = select_for_moderation(auditor_overall=None, has_escalation=False, was_returned=False, draw=0.42, rate=0.1)
    assert (outcome.selected, outcome.reason, outcome.draw, outcome.rate) == (False, None, 0.42, 0.1)
    # The draw is compared strictly: a draw equal to the rate is not selected; rates are clamped to [0, 1].
    assert not select_for_moderation(
        auditor_overall=None, has_escalation=False, was_returned=False, draw=0.1, rate=0.1
    ).selected
    assert select_for_moderation(
        auditor_overall=None, has_escalation=False, was_returned=False, draw=0.99, rate=5
    ).selected


def test_a_grade_flagged_audit_is_always_moderated_after_inadequate_and_safeguarding():
    flagged = select_for_moderation(
        auditor_overall="good", has_escalation=False, was_returned=False, draw=0.99, rate=0.0, grade_flagged=True
    )
    assert flagged.reason == "grade_flags"
    first = select_for_moderation(
        auditor_overall="good", has_escalation=True, was_returned=False, draw=0.99, rate=0.0, grade_flagged=True
    )
    assert first.reason == "safeguarding"
