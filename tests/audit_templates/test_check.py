"""`templates check`: every shipped template passes; broken files are reported with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.audit_templates.loader import (
    TemplateError,
    check_file,
    check_templates,
    content_hash,
    load_template,
    load_templates,
    run_check,
)
from app.audit_templates.schema import TemplateKind
from app.cli import cli

HERE = Path(__file__).parent
SHIPPED = HERE.parents[1] / "audit_templates"


@pytest.fixture
def in_tests_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)


def problems(name: str) -> list[str]:
    """The check's messages for a broken fixture, less the file-name message every fixture gets."""
    return [str(m) for m in check_file(Path("broken") / name) if "file name" not in m.message]


def test_every_shipped_template_passes_the_check():
    status, lines = run_check(SHIPPED)
    assert (status, lines) == (0, [f"Checked 9 template files in {SHIPPED}: no problems."])
    templates = load_templates(SHIPPED)
    assert [(t.key, t.version, t.kind) for t in templates] == [
        ("case_file_audit", 1, TemplateKind.FULL),
        ("case_file_audit", 2, TemplateKind.FULL),
        ("dip_sample", 1, TemplateKind.DIP_SAMPLE),
        ("dip_sample", 2, TemplateKind.DIP_SAMPLE),
        ("multi_agency", 1, TemplateKind.MULTI_AGENCY),
        ("multi_agency", 2, TemplateKind.MULTI_AGENCY),
        ("thematic_front_door", 1, TemplateKind.THEMATIC),
        ("thematic_missing", 1, TemplateKind.THEMATIC),
        ("thematic_missing", 2, TemplateKind.THEMATIC),
    ]
    assert all(t.safeguarding_question is not None for t in templates)


def test_the_newest_version_of_every_shipped_template_bounds_its_number_questions():
    newest = {t.key: t for t in load_templates(SHIPPED)}  # sorted by version: the last of each key wins
    numbers = {(t.key, q.key): (q.min, q.max) for t in newest.values() for q in t.questions if q.type == "number"}
    assert numbers == {
        ("case_file_audit", "social_workers_12m"): (0, 50),
        ("thematic_missing", "missing_episodes_12m"): (0, 500),
    }


@pytest.mark.parametrize("key", ["case_file_audit", "thematic_missing"])
def test_a_second_version_only_adds_the_bounds(key):
    """Published versions never change: the bounds came as version 2, the same questions as version 1."""
    first, second = (load_template(SHIPPED / f"{key}.v{v}.yaml") for v in (1, 2))
    unbounded = {"min": None, "max": None}
    assert [q.model_copy(update=unbounded) for q in second.questions] == list(first.questions)
    assert second.model_copy(update={"version": 1, "sections": first.sections}) == first


def test_dip_sample_version_2_only_adds_return_interviews_completed_within_72_hours():
    """Version 1 asked about interviews offered within 72 hours; version 2 keeps that question as it was (its answers
    from both versions count together) and adds one about interviews completed (held) within 72 hours, with nothing
    mapped to it: an offer is no evidence that an interview was held."""
    first, second = (load_template(SHIPPED / f"dip_sample.v{v}.yaml") for v in (1, 2))
    added = {"return_interview_completed_72_hours", "return_interview_completed_72_hours__explanation"}
    assert {q.key for q in second.questions} - {q.key for q in first.questions} == added
    assert [q for q in second.questions if q.key not in added] == list(first.questions)
    offered = second.question("return_interview_within_72_hours")
    completed = second.question("return_interview_completed_72_hours")
    assert offered is not None and "offered" in offered.label
    assert completed is not None and "completed" in completed.label and completed.counts_for_compliance
    assert completed.show_if == offered.show_if  # asked whenever the child has gone missing
    assert second.replaces is None


def test_a_question_without_bounds_dumps_as_before_they_existed():
    """So the content hash of every version published before min and max existed is unchanged."""
    full = load_template(SHIPPED / "case_file_audit.v2.yaml")
    assert {"min", "max"}.isdisjoint(full.question("chronology_up_to_date").model_dump(by_alias=True))
    assert full.question("social_workers_12m").model_dump(by_alias=True).items() >= {"min": 0, "max": 50}.items()


def test_the_full_template_has_sections_a_to_l_without_moderation():
    full = load_template(SHIPPED / "case_file_audit.v1.yaml")
    assert [s.title[0] for s in full.sections] == list("ABCDEFGHIJKL")
    assert full.overall is not None and full.overall.grade_question == "overall_grade"
    assert full.question("assessment__grade") is not None
    assert full.question("immediate_safeguarding_concern__explanation") is not None


@pytest.mark.usefixtures("in_tests_dir")
def test_show_if_on_a_later_missing_or_impossible_answer():
    assert problems("show_if_later.yaml") == [
        (
            "broken/show_if_later.yaml:14: show_if of question 'return_interview_offered' refers to 'child_missing', "
            "which comes later"
        ),
        (
            "broken/show_if_later.yaml:23: show_if of question 'chronology_up_to_date' refers to 'chronolgy', "
            "which is not in this template"
        ),
        (
            "broken/show_if_later.yaml:27: show_if of question 'plan_reviewed' compares 'child_missing' with 'maybe', "
            "which is not one of its answers (yes, no, na)"
        ),
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_yaml_syntax_error_names_the_line():
    assert problems("syntax_error.yaml") == [
        (
            "broken/syntax_error.yaml:9: YAML syntax error: expected ',' or ']', but got '<stream end>' "
            "(while parsing a flow sequence that starts on line 8)"
        ),
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_unknown_missing_and_wrong_fields_point_at_their_lines():
    assert problems("shape.yaml") == [
        "broken/shape.yaml:1: missing field 'description'",
        "broken/shape.yaml:2: version: Input should be a valid integer, unable to parse string as an integer",
        "broken/shape.yaml:4: kind: Input should be 'full', 'dip_sample', 'thematic' or 'multi_agency'",
        "broken/shape.yaml:9: question 'chronology': missing field 'label'",
        "broken/shape.yaml:11: question 'chronology': unknown field 'lable' (did you mean 'label'?)",
        (
            "broken/shape.yaml:12: question 'Genogram': key: 'Genogram' is not a valid key: "
            "use lower-case letters, digits and single underscores"
        ),
        (
            "broken/shape.yaml:13: question 'Genogram': type: Input should be 'yes_no_na', 'grade', 'single_choice', "
            "'multi_choice', 'text', 'date' or 'number'"
        ),
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_duplicate_section_question_and_yaml_keys():
    assert problems("duplicates.yaml") == [
        "broken/duplicates.yaml:13: section key 'history' is used twice",
        "broken/duplicates.yaml:16: question key 'chronology' is used twice",
        "broken/duplicates.yaml:19: 'label' is given twice",
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_options_belong_to_choice_questions_only_and_are_unique():
    assert problems("options.yaml") == [
        "broken/options.yaml:11: question 'contact_source' is single_choice but has no options",
        "broken/options.yaml:17: question 'decision_timely' is yes_no_na, which takes no options",
        "broken/options.yaml:23: question 'outcome' has the option 'early_help' twice",
        "broken/options.yaml:24: question 'notes': explain_when is only for yes_no_na questions",
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_min_and_max_are_numbers_in_order_on_number_questions_only():
    assert problems("bounds.yaml") == [
        "broken/bounds.yaml:13: question 'social_workers_12m': min (50) is more than max (0)",
        "broken/bounds.yaml:22: question 'notes': max is only for number questions",
    ]
    assert problems("bounds_shape.yaml") == [
        "broken/bounds_shape.yaml:13: question 'missing_episodes_12m': min: must be a number, like 0 or 50",
        "broken/bounds_shape.yaml:14: question 'missing_episodes_12m': max: must be a finite number, like 0 or 50",
        "broken/bounds_shape.yaml:18: question 'placements_12m': min: must be a number, like 0 or 50",
        "broken/bounds_shape.yaml:19: question 'placements_12m': max: must be a number, like 0 or 50",
    ]


def test_the_cli_check_names_a_bad_min_and_max(tmp_path: Path):
    text = (
        minimal()
        + "      - key: visits\n        type: number\n        label: Visits\n        min: 10\n        max: 2\n"
    )
    write(tmp_path, "mini.v1.yaml", text)
    checked = CliRunner().invoke(cli, ["templates", "check", str(tmp_path)])
    assert checked.exit_code == 1
    assert f"{tmp_path / 'mini.v1.yaml'}:17: question 'visits': min (10) is more than max (2)" in checked.output


@pytest.mark.usefixtures("in_tests_dir")
def test_prefill_must_name_case_facts_and_give_what_its_check_needs():
    found = problems("prefill.yaml")
    assert found[0].startswith(
        "broken/prefill.yaml:13: question 'assessment_timely': prefill fact 'assessment_signed_off' is not a case fact"
    )
    assert found[1:] == [
        "broken/prefill.yaml:17: question 'visit_timely': within_days needs 'days'",
        (
            "broken/prefill.yaml:17: question 'visit_timely': prefill from 'yesterday' must be \"today\" or a date fact "
            "(assessment_authorised, assessment_start, last_dental_check, last_health_check, last_iro_contact, "
            "last_seen_date, last_statutory_visit, latest_review, referral_date)"
        ),
        "broken/prefill.yaml:21: question 'placements_stable': at_most needs 'value'",
        "broken/prefill.yaml:25: question 'seen_alone_text': prefill is only for yes_no_na questions",
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_overall_grade_question_and_replaces_must_point_at_this_template():
    assert problems("overall.yaml") == [
        (
            "broken/overall.yaml:7: replaces maps 'chronology_on_file' to 'chronology_up_to_date', "
            "which is not a question in this template"
        ),
        "broken/overall.yaml:9: overall grade_question 'overall_rationale' is text, not grade",
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_file_name_must_be_key_dot_v_version():
    assert str(check_file("broken/overall.yaml")[0]) == (
        "broken/overall.yaml:1: the file name should be 'overall.v2.yaml' (<key>.v<version>.yaml)"
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
key: mini
version: {version}
title: Mini
kind: dip_sample
description: A small checklist
{extra}sections:
  - key: checklist
    title: Checklist
    questions:
      - key: {question}
        type: yes_no_na
        label: Is the chronology up to date?
        prefill: {{fact: seen_alone, check: {check}}}
"""


def minimal(version: int = 1, question: str = "chronology", check: str = '"true"', extra: str = "") -> str:
    return MINIMAL.format(version=version, question=question, check=check, extra=extra)


def test_unquoted_true_and_yes_no_values(tmp_path: Path):
    path = write(tmp_path, "mini.v1.yaml", minimal(check="true"))
    assert [m.message for m in check_file(path)] == [
        (
            "question 'chronology': prefill.check: Input should be 'recorded', 'true', 'within_working_days', "
            "'within_days', 'at_most' or 'at_least' (write \"true\" in quotes)"
        ),
    ]
    # `yes` and `no` stay strings (YAML 1.2 booleans), so conditions can be written without quotes.
    text = (
        minimal()
        + "      - key: why\n        type: text\n        label: Why?\n        show_if: {question: chronology, equals: no}\n"
    )
    assert check_file(write(tmp_path, "mini.v1.yaml", text)) == []
    assert load_template(tmp_path / "mini.v1.yaml").question("why").show_if.equals == "no"


def test_the_same_key_and_version_twice_and_replaces_checked_against_the_previous_version(tmp_path: Path):
    write(tmp_path, "mini.v1.yaml", minimal())
    write(tmp_path, "mini.v1.yml", minimal())
    write(
        tmp_path,
        "mini.v2.yaml",
        minimal(
            version=2,
            question="chronology_up_to_date",
            extra="replaces:\n  chronology: chronology_up_to_date\n  genogram: chronology_up_to_date\n",
        ),
    )
    assert [str(m).removeprefix(f"{tmp_path}/") for m in check_templates(tmp_path)] == [
        "mini.v1.yml:1: the file name should be 'mini.v1.yaml' (<key>.v<version>.yaml)",
        "mini.v1.yml:1: 'mini' version 1 is also defined in mini.v1.yaml",
        "mini.v2.yaml:8: replaces maps 'genogram', which is not a question in 'mini' version 1",
    ]


def test_load_refuses_a_broken_file_with_every_message(tmp_path: Path):
    path = write(tmp_path, "mini.v1.yaml", minimal(check="sometimes"))
    with pytest.raises(TemplateError) as raised:
        load_template(path)
    assert str(raised.value).startswith(f"{path}:13: question 'chronology': prefill.check: Input should be")
    status, lines = run_check(tmp_path)
    assert status == 1 and lines[-1] == f"Checked 1 template file in {tmp_path}: 1 problem."


def test_content_hash_ignores_layout_and_comments_but_not_content(tmp_path: Path):
    original = load_template(write(tmp_path, "mini.v1.yaml", minimal()))
    reformatted = "# a comment\n" + minimal().replace(
        '{fact: seen_alone, check: "true"}', "\n          fact: seen_alone\n          check: 'true'"
    )
    assert content_hash(load_template(write(tmp_path, "mini.v1.yaml", reformatted))) == content_hash(original)
    edited = minimal().replace("Is the chronology up to date?", "Is the chronology current?")
    assert content_hash(load_template(write(tmp_path, "mini.v1.yaml", edited))) != content_hash(original)


def test_shipped_templates_hash_stably():
    path = SHIPPED / "dip_sample.v1.yaml"
    assert content_hash(load_template(path)) == content_hash(load_template(path))
    assert len(content_hash(load_template(path))) == 64


def test_run_check_on_a_missing_directory(tmp_path: Path):
    assert run_check(tmp_path / "nowhere") == (1, [f"{tmp_path / 'nowhere'}: no such directory"])
    assert run_check(tmp_path) == (1, [f"{tmp_path}: no template files (*.yaml) found"])


def test_broken_fixture_directory_fails_as_a_whole():
    status, lines = run_check(HERE / "broken")
    assert status == 1 and lines[-1].startswith(f"Checked 11 template files in {HERE / 'broken'}:")
