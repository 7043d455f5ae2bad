"""Report targets: the shipped file loads; a bad file is refused naming the entry and field; judging uses the
interval (met, not met, cannot tell), for "at least" and "no more than" targets. Each question target is measured
from a compliance question of the newest version of its template: `target_problems` (and `caseaudit templates
check`) name the target and the question when it is not; the reports page names the question beside the target."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.audit_templates.loader import load_template, load_templates
from app.audit_templates.service import TEMPLATES_DIR
from app.cli import cli
from app.config import get_settings
from app.reports.stats import Verdict, rate
from app.reports.targets import (
    DEFAULT_FILE,
    Target,
    TargetsError,
    load_targets,
    newest_templates,
    target_problems,
    target_question,
)
from tests.factories import login, page_text
from tests.reports.conftest import DIP, completed_audit

SHIPPED = load_templates(TEMPLATES_DIR)
COMPLETED = "Was each return home interview completed (held with the child) within 72 hours of their return?"


def test_the_shipped_targets_load_with_their_sources():
    targets = {t.key: t for t in load_targets()}
    assert set(targets) == {"assessments_in_timescale", "return_interviews_72h", "inadequate_at_most_10"}
    interviews = targets["return_interviews_72h"]
    assert (interviews.template_key, interviews.question_key, interviews.target) == (
        "dip_sample",
        "return_interview_completed_72_hours",
        0.75,
    )
    assert "72 hours" in interviews.source
    assert targets["inadequate_at_most_10"].grade == "inadequate" and targets["inadequate_at_most_10"].at_most


def test_every_shipped_target_is_measured_from_a_compliance_question_of_the_newest_template():
    targets = {t.key: t for t in load_targets()}
    assert target_problems(targets.values(), SHIPPED) == []
    newest = newest_templates(SHIPPED)
    assert newest["dip_sample"].version == 2
    interviews = target_question(targets["return_interviews_72h"], newest)
    assert interviews is not None and interviews.label == COMPLETED  # completed, not offered
    assert target_question(targets["inadequate_at_most_10"], newest) is None  # a grade target has no question


def test_the_return_interview_target_is_about_interviews_completed_not_offered():
    """Version 1 only asked about offers; its question is not the target's, so no version 1 answer counts for it."""
    first = load_template(TEMPLATES_DIR / "dip_sample.v1.yaml")
    target = {t.key: t for t in load_targets()}["return_interviews_72h"]
    assert first.question(target.question_key or "") is None
    offered = first.question("return_interview_within_72_hours")
    assert offered is not None and "offered" in offered.label
    assert target_problems([target], [first]) == [
        "target 'return_interviews_72h' is measured from 'dip_sample.return_interview_completed_72_hours', but "
        "'return_interview_completed_72_hours' is not a question of 'dip_sample' version 1 (its newest)"
    ]


def _target(question: str) -> Target:
    return Target(key="rhi", label="RHI", source="Plan", question=question, target=0.75)


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("dip_samples.return_interview_completed_72_hours", "there is no template 'dip_samples'"),
        (
            "dip_sample.return_interview_held",
            "'return_interview_held' is not a question of 'dip_sample' version 2 (its newest)",
        ),
        (
            "dip_sample.child_missing_12m",  # a fact (scored: false)
            "'child_missing_12m' (“Has the child been missing from home or care in the last 12 months?”) does not "
            "count for compliance in 'dip_sample' version 2 (its newest)",
        ),
        (
            "dip_sample.immediate_safeguarding_concern",
            "'immediate_safeguarding_concern' (“Is there an immediate safeguarding concern for this child?”) does "
            "not count for compliance",
        ),
        ("dip_sample.comments", "'comments' (“Anything else the team manager should know”) does not count"),
        (
            "dip_sample.chronology_up_to_date__explanation",  # generated: the explanation of a No
            "'chronology_up_to_date__explanation' (“Explain why the answer is No”) does not count for compliance",
        ),
    ],
)
def test_a_target_not_measured_from_a_compliance_question_is_named_with_its_question(question, problem):
    (found,) = target_problems([_target(question)], SHIPPED)
    assert found.startswith(f"target 'rhi' is measured from '{question}', but {problem}")


def _mini(version: int, question: str, replaces: str = "") -> str:
    return (
        f"key: mini\nversion: {version}\ntitle: Mini\nkind: dip_sample\ndescription: A test.\n{replaces}"
        f"sections:\n  - key: a\n    title: A\n    questions:\n"
        f"      - {{key: {question}, type: yes_no_na, label: Interview held}}\n"
    )


def test_a_question_renamed_in_the_newest_version_says_what_replaces_it(tmp_path: Path):
    (tmp_path / "mini.v1.yaml").write_text(_mini(1, "interview_done"))
    (tmp_path / "mini.v2.yaml").write_text(_mini(2, "interview_held", "replaces:\n  interview_done: interview_held\n"))
    definitions = load_templates(tmp_path)
    assert target_problems([_target("mini.interview_done")], definitions) == [
        "target 'rhi' is measured from 'mini.interview_done', but 'interview_done' is not a question of 'mini' "
        "version 2 (its newest); that version replaces it with 'interview_held'"
    ]
    assert target_problems([_target("mini.interview_held")], definitions) == []


# --- `caseaudit templates check` ------------------------------------------------------------------------------


def _targets_file(tmp_path: Path, question: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(
        "targets:\n"
        "  - {key: assessments, label: A, source: S, question: dip_sample.assessment_within_45_days, target: 0.9}\n"
        f"  - {{key: return_interviews, label: R, source: S, question: {question}, target: 0.75}}\n"
    )
    return path


def test_templates_check_refuses_a_target_whose_question_is_missing(tmp_path: Path):
    path = _targets_file(tmp_path, "dip_sample.return_interview_held")
    checked = CliRunner().invoke(cli, ["templates", "check", "--targets", str(path)])
    assert checked.exit_code == 1
    output = " ".join(checked.output.split())
    assert f"Checked 9 template files in {TEMPLATES_DIR}: no problems." in output
    assert (
        f"{path}: target 'return_interviews' is measured from 'dip_sample.return_interview_held', but "
        "'return_interview_held' is not a question of 'dip_sample' version 2 (its newest)" in output
    )
    assert f"Checked 2 targets in {path}: 1 problem." in output
    assert "assessments" not in output.replace(str(path), "")  # the good target is not mentioned


def test_templates_check_reads_the_targets_file_the_reports_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REPORT_TARGETS_FILE", str(_targets_file(tmp_path, "dip_sample.child_missing_12m")))
    get_settings.cache_clear()
    try:
        checked = CliRunner().invoke(cli, ["templates", "check"])
    finally:
        get_settings.cache_clear()
    assert checked.exit_code == 1
    assert "target 'return_interviews' is measured from 'dip_sample.child_missing_12m'" in checked.output
    assert "does not count for compliance" in checked.output


def test_templates_check_passes_the_shipped_targets_and_names_an_unreadable_file(tmp_path: Path):
    checked = CliRunner().invoke(cli, ["templates", "check", "--targets", str(DEFAULT_FILE)])
    assert checked.exit_code == 0, checked.output
    assert f"Checked 3 targets in {DEFAULT_FILE}: no problems." in checked.output
    broken = tmp_path / "targets.yaml"
    broken.write_text("targets: [")
    failed = CliRunner().invoke(cli, ["templates", "check", "--targets", str(broken)])
    assert failed.exit_code == 1 and f"{broken}: not valid YAML" in failed.output


# --- The reports page -------------------------------------------------------------------------------------------


def _target_row(page: str, key: str) -> str:
    found = re.search(rf'<tr[^>]*id="target-{key}".*?</tr>', page, re.DOTALL)
    assert found, f"no row for target {key}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


def _reports(client, rw) -> str:
    login(client, rw.lead.username)
    response = client.get("/reports", params={"date_from": "2026-01-01", "date_to": "2026-06-30"})
    assert response.status_code == 200
    return response.text


def test_the_page_names_the_question_each_target_is_measured_from(client, rw):
    # rw's dip samples (version 2) have no return interview answers: nothing to measure, the question still named
    row = _target_row(_reports(client, rw), "return_interviews_72h")
    assert row.startswith("75% of return home interviews completed within 72 hours")
    assert (
        f"Measured from the question “{COMPLETED}”, Dip sample compliance checklist "
        "(dip_sample.return_interview_completed_72_hours)" in row
    )
    assert f"Yes answers to “{COMPLETED}” (dip_sample) 0 No data Cannot tell nothing to measure" in row


def test_offers_on_version_1_do_not_count_as_completed_interviews(client, db, rw):
    missing = {"child_missing_12m": "yes", "immediate_safeguarding_concern": "no"}
    for version, answers in (
        (1, {"return_interview_within_72_hours": "yes"}),  # offered in time; version 1 did not ask if it was held
        (2, {"return_interview_within_72_hours": "yes", "return_interview_completed_72_hours": "no"}),
    ):
        completed_audit(
            db,
            auditor=rw.auditor,
            team=rw.north,
            template=DIP,
            case_type="cin",
            answers={**missing, **answers},
            completed_at=rw.audits["a5"].completed_at,
            version=version,
        )
    page = _reports(client, rw)
    # the target: the one version 2 audit, not held in time (0 of 1); the version 1 offer is not counted
    row = _target_row(page, "return_interviews_72h")
    assert re.search(rf"Yes answers to “{re.escape(COMPLETED)}” \(dip_sample\) 1 0% \d+%–\d+% Cannot tell", row)
    # the offered question still counts both versions' answers (2 of 2)
    offered = re.search(r"Was a return home interview offered within 72 hours of each return\?[^%]*?%", page_text(page))
    assert offered and "2 0 0 100%" in offered.group(0)


def test_a_target_that_cannot_be_measured_is_flagged_not_fatal(client, rw, monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(
        client.app.state.settings, "report_targets_file", _targets_file(tmp_path, "dip_sample.return_interview_held")
    )
    with caplog.at_level(logging.WARNING, logger="caseaudit.reports"):
        page = _reports(client, rw)
    row = _target_row(page, "return_interviews")
    assert "Measured from the question “return_interview_held”, Dip sample compliance checklist" in row
    assert "Cannot be measured" in row and "Cannot tell" in row
    assert (
        "check the targets file: 'return_interview_held' is not a question of 'dip_sample' version 2 (its newest)"
        in row
    )
    assert "Cannot be measured" not in _target_row(page, "assessments")  # the other target is measured as usual
    assert any("report target return_interviews cannot be measured" in r.getMessage() for r in caplog.records), (
        caplog.records
    )


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
