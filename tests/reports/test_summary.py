"""The board pack's written summary: a rise or fall is claimed only when the intervals do not overlap, small
changes within sampling error are not mentioned, too few answers are said to be too few, and every statement
points at its figure."""

from __future__ import annotations

from app.reports.stats import Difference, rate
from app.reports.summary import Measure, measure_statement, summarise


def _m(key, yes, no, label=None):
    return Measure(key=key, label=label or key.title(), rate=rate(yes, no), anchor=f"fig-{key}")


def test_a_real_rise_is_claimed_with_both_figures():
    s = measure_statement(_m("oversight", 90, 10, "Management oversight"), _m("oversight", 50, 50))
    assert s is not None and s.difference is Difference.HIGHER and s.anchor == "fig-oversight"
    assert s.text == (
        "Management oversight rose from 50% of 100 to 90% of 100: a real change (the 95% intervals do not overlap)."
    )


def test_a_fall_within_sampling_error_is_not_called_a_fall():
    s = measure_statement(_m("voice", 14, 6, "Child's voice"), _m("voice", 17, 3))
    assert s is not None and s.difference is Difference.NO_CLEAR_DIFFERENCE
    assert "within what sampling alone could explain" in s.text and "fell" not in s.text


def test_a_small_change_within_sampling_error_is_left_out():
    assert measure_statement(_m("plan", 41, 9), _m("plan", 40, 10)) is None


def test_too_few_answers_are_said_to_be_too_few():
    s = measure_statement(_m("rhi", 4, 1, "Return interviews"), _m("rhi", 1, 4))
    assert s is not None and s.difference is Difference.CANNOT_TELL
    assert s.text == "Return interviews: from 20% of 5 to 80% of 5; too few answers to tell whether it changed."


def test_nothing_to_compare_with():
    s = measure_statement(_m("new", 8, 2, "New question"), None)
    assert s is not None and "no answers in the previous period" in s.text
    assert measure_statement(_m("none", 0, 0), None) is None


def test_summary_orders_real_changes_first_and_counts_audits():
    now = [_m("a", 14, 6), _m("b", 4, 1), _m("c", 90, 10)]
    before = [_m("a", 17, 3), _m("b", 1, 4), _m("c", 50, 50)]
    statements = summarise(audits_now=120, audits_before=95, audits_anchor="fig-grades", now=now, before=before)
    assert statements[0].text == "120 audits completed this period (95 in the previous period)."
    assert statements[0].anchor == "fig-grades"
    assert [s.anchor for s in statements[1:]] == ["fig-c", "fig-a", "fig-b"]


def test_one_audit_is_not_called_audits():
    statements = summarise(audits_now=1, audits_before=0, audits_anchor="glance", now=[], before=[])
    assert statements[0].text == "1 audit completed this period (0 in the previous period)."
