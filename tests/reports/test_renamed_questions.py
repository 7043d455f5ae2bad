"""A later version's `replaces` renames a question: every version's answers count under the newest key (issue 18),
in the compliance figures and in the audits behind them."""

from __future__ import annotations

from pathlib import Path

from app.audit_templates.loader import load_template
from app.audit_templates.versions import key_aliases, newest_keys
from app.reports.figures import CodedAudits, CodedBlock, compliance_questions, tally_codes

TEMPLATE = """key: renamed
version: {version}
title: Renamed
kind: dip_sample
description: A checklist whose second question is renamed in version 2.
{replaces}
sections:
  - key: checks
    title: Checks
    questions:
      - key: plan_on_file
        type: yes_no_na
        label: Is there a plan on file?
      - key: {second}
        type: yes_no_na
        label: {label}
"""


def _versions(tmp_path: Path):
    files = []
    for version, second, label, replaces in (
        (1, "visit_in_time", "Was the child visited in time?", ""),
        (
            2,
            "visited_within_timescale",
            "Was the child visited within timescale?",
            "replaces:\n  visit_in_time: visited_within_timescale",
        ),
    ):
        path = tmp_path / f"renamed.v{version}.yaml"
        path.write_text(TEMPLATE.format(version=version, second=second, label=label, replaces=replaces), "utf-8")
        files.append(load_template(path))
    return files


def test_a_renamed_question_keeps_its_newest_key_in_every_version(tmp_path):
    v1, v2 = _versions(tmp_path)
    names = newest_keys([v2, v1])
    assert names[("renamed", 1)] == {"plan_on_file": "plan_on_file", "visit_in_time": "visited_within_timescale"}
    assert names[("renamed", 2)]["visited_within_timescale"] == "visited_within_timescale"
    assert key_aliases([v1, v2], "renamed", "visited_within_timescale") == ["visit_in_time", "visited_within_timescale"]
    assert key_aliases([v1, v2], "renamed", "plan_on_file") == ["plan_on_file"]
    # one question, not two, titled as the newest version words it
    questions = compliance_questions([v1, v2])
    assert sorted(q for _, q in questions) == ["plan_on_file", "visited_within_timescale"]
    assert questions[("renamed", "visited_within_timescale")].label == "Was the child visited within timescale?"


def test_answers_of_both_versions_count_together_under_the_newest_key(tmp_path):
    v1, v2 = _versions(tmp_path)
    # v1: two audits (plan yes, visit no), (plan yes, visit yes); v2: one audit (plan no, visited yes)
    coded = CodedAudits(
        blocks=[
            CodedBlock(group=(), facts=(), version_id=1, audits=2, codes="ynyy"),
            CodedBlock(group=(), facts=(), version_id=2, audits=1, codes="ny"),
        ],
        definitions={1: v1, 2: v2},
    )
    tallied = tally_codes(coded).questions
    visited = tallied[((), "renamed", "visited_within_timescale")]
    assert (visited.yes, visited.no, visited.audits) == (2, 1, 3)
    assert ((), "renamed", "visit_in_time") not in tallied
    section = tally_codes(coded).sections[((), "renamed", "checks")]
    assert (section.yes, section.no, section.audits) == (4, 2, 3)
