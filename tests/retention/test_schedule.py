"""The retention schedule file: the shipped default is valid and says where each period comes from; a council's
file with mistakes is refused with every problem named by rule and field."""

from datetime import date
from pathlib import Path

import pytest
import yaml

from app.retention.schedule import DEFAULT_SCHEDULE, KINDS, Period, ScheduleError, period_parse, schedule_load


def _default() -> dict:
    return yaml.safe_load(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "retention.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_schedule_covers_every_kind_of_record_with_a_source() -> None:
    schedule = schedule_load()
    assert set(schedule.rules) == set(KINDS)
    assert all(len(rule.source) > 30 for rule in schedule.rules.values())
    assert str(schedule.rule("closed_cases").keep) == "6 years"
    assert schedule.rule("import_files").keep == Period(0, "day")
    assert schedule.rule("trail_details").then == "redact"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6 years", Period(6, "year")),
        ("1 year", Period(1, "year")),
        ("18 Months", Period(18, "month")),
        ("90 days", Period(90, "day")),
        ("2 weeks", Period(2, "week")),
        ("0 days", Period(0, "day")),
    ],
)
def test_periods_are_read(text: str, expected: Period) -> None:
    assert period_parse(text) == expected


@pytest.mark.parametrize("text", ["6 yeers", "six years", "-1 days", "", None, "101 years", "6"])
def test_periods_that_are_not_refused(text: object) -> None:
    assert period_parse(text) is None


def test_cutoffs_count_back_by_calendar() -> None:
    today = date(2026, 12, 6)
    assert Period(6, "year").cutoff(today) == date(2020, 12, 6)
    assert Period(1, "month").cutoff(date(2026, 3, 31)) == date(2026, 2, 28)
    assert Period(90, "day").cutoff(today) == date(2026, 9, 7)
    assert Period(2, "week").cutoff(today) == date(2026, 11, 22)
    assert Period(0, "day").cutoff(today) == today


def test_every_problem_is_named_by_rule_and_field(tmp_path: Path) -> None:
    data = _default()
    data["rules"]["closed_cases"]["keep"] = "6 yeers"
    data["rules"]["notifications"]["then"] = "anonymise"  # notifications can only be deleted
    data["rules"]["completed_audits"]["after"] = "created"
    data["rules"]["replies"]["source"] = ""
    data["rules"]["casenotes"] = {"keep": "1 year", "after": "created", "then": "delete", "source": "x"}
    del data["rules"]["sign_in_attempts"]
    with pytest.raises(ScheduleError) as raised:
        schedule_load(_write(tmp_path, data))
    problems = raised.value.problems
    assert (
        "rules.closed_cases.keep: '6 yeers' is not a period like '6 years', '18 months' or '90 days' (at most 100 years)"
        in problems
    )
    assert "rules.notifications.then: 'anonymise' is not one of delete" in problems
    assert "rules.completed_audits.after: 'created' is not one of audit_completed" in problems
    assert any(p.startswith("rules.replies.source: say where the period comes from") for p in problems)
    assert any(p.startswith("rules.casenotes: not a kind of record this app keeps") for p in problems)
    assert any(p.startswith("rules.sign_in_attempts: missing") for p in problems)
    assert str(raised.value).startswith(f"retention schedule {tmp_path / 'retention.yaml'}: ")


def test_a_file_that_is_not_yaml_or_missing_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  closed_cases: [\n", encoding="utf-8")
    with pytest.raises(ScheduleError, match=r"line \d+: not valid YAML"):
        schedule_load(broken)
    with pytest.raises(ScheduleError, match="cannot be read"):
        schedule_load(tmp_path / "missing.yaml")
    with pytest.raises(ScheduleError, match="version: 2 is not a version"):
        schedule_load(_write(tmp_path, {**_default(), "version": 2}))


def test_a_council_schedule_with_other_periods_is_used(tmp_path: Path) -> None:
    data = _default()
    data["rules"]["closed_cases"].update(keep="25 years", then="delete")
    schedule = schedule_load(_write(tmp_path, data))
    assert (str(schedule.rule("closed_cases").keep), schedule.rule("closed_cases").then) == ("25 years", "delete")
