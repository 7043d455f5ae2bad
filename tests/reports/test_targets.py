"""Report targets: the shipped file loads; a bad file is refused naming the entry and field; judging uses the
interval (met, not met, cannot tell), for "at least" and "no more than" targets."""

from __future__ import annotations

import pytest

from app.reports.stats import Verdict, rate
from app.reports.targets import TargetsError, load_targets


def test_the_shipped_targets_load_with_their_sources():
    targets = {t.key: t for t in load_targets()}
    assert set(targets) == {"assessments_in_timescale", "return_interviews_72h", "inadequate_at_most_10"}
    interviews = targets["return_interviews_72h"]
    assert (interviews.template_key, interviews.question_key, interviews.target) == (
        "dip_sample",
        "return_interview_within_72_hours",
        0.75,
    )
    assert "72 hours" in interviews.source
    assert targets["inadequate_at_most_10"].grade == "inadequate" and targets["inadequate_at_most_10"].at_most


def test_judging_at_least_and_at_most():
    targets = {t.key: t for t in load_targets()}
    assert targets["return_interviews_72h"].judge(rate(95, 5)) is Verdict.MET
    assert targets["return_interviews_72h"].judge(rate(8, 4)) is Verdict.CANNOT_TELL
    assert targets["inadequate_at_most_10"].judge(rate(30, 70)) is Verdict.NOT_MET


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets:\n  - key: a\n    label: A\n    source: S\n    target: 0.5\n", "give either"),
        ("targets:\n  - key: a\n    label: A\n    source: S\n    grade: poor\n    target: 0.5\n", "targets.0.grade"),
        ("targets:\n  - key: a\n    label: A\n    source: S\n    grade: good\n    target: 90\n", "targets.0.target"),
        (
            "targets:\n  - {key: a, label: A, source: S, grade: good, target: 0.5}\n"
            "  - {key: a, label: B, source: S, grade: good, target: 0.5}\n",
            "repeated: a",
        ),
        ("targets: [", "not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_naming_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    with pytest.raises(TargetsError, match=message) as caught:
        load_targets(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(TargetsError, match="cannot be read"):
        load_targets(tmp_path / "nowhere.yaml")
