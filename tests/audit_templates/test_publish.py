"""Publishing templates: new versions are loaded once, published ones never change, and the API serves them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.accounts.roles import Role
from app.audit_templates import selectors
from app.audit_templates.models import TemplateVersion
from app.audit_templates.service import TEMPLATES_DIR, PublishedTemplateChanged, template_definition, templates_publish
from app.audit_trail.models import AuditEvent
from app.cli import cli
from app.errors import ValidationFailed
from tests.factories import api_headers, make_user

SHIPPED = (
    ("case_file_audit", 1),
    ("case_file_audit", 2),
    ("dip_sample", 1),
    ("dip_sample", 2),
    ("multi_agency", 1),
    ("multi_agency", 2),
    ("thematic_front_door", 1),
    ("thematic_missing", 1),
    ("thematic_missing", 2),
)


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    target = tmp_path / "audit_templates"
    target.mkdir()
    for path in TEMPLATES_DIR.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def _count(db) -> int:
    return db.execute(select(func.count()).select_from(TemplateVersion)).scalar_one()


def test_publishing_loads_every_shipped_template_once_with_an_audit_event_each(db):
    report = templates_publish(db)
    assert sorted(report.added) == sorted(f"{key} v{version}" for key, version in SHIPPED)
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "template.publish")).scalars().all()
    assert len(events) == len(SHIPPED)
    again = templates_publish(db)
    assert again.added == [] and len(again.unchanged) == len(SHIPPED) and _count(db) == len(SHIPPED)


def test_a_layout_only_edit_is_not_a_change(db, template_dir):
    templates_publish(db, directory=template_dir)
    path = template_dir / "dip_sample.v1.yaml"
    path.write_text("# a comment added after publishing\n" + path.read_text())
    assert templates_publish(db, directory=template_dir).added == []


def test_changing_a_published_version_in_place_is_refused_and_nothing_is_loaded(db, template_dir):
    templates_publish(db, directory=template_dir)
    path = template_dir / "dip_sample.v1.yaml"
    path.write_text(path.read_text().replace("Is the chronology up to date", "Is the chronology current", 1))
    new_version = template_dir / "thematic_missing.v2.yaml"
    new_version.write_text((template_dir / "thematic_missing.v1.yaml").read_text().replace("version: 1", "version: 2"))
    before = _count(db)
    with pytest.raises(PublishedTemplateChanged) as refused:
        templates_publish(db, directory=template_dir)
    message = refused.value.messages[0]
    assert message.startswith("dip_sample.v1.yaml: 'dip_sample' version 1 is already published")
    assert "make your changes in dip_sample.v2.yaml with 'version: 2'" in message
    assert _count(db) == before  # the new thematic_missing v2 was not loaded either: all or nothing


def test_a_new_version_is_added_and_the_old_one_kept(db, template_dir):
    templates_publish(db, directory=template_dir)
    old = selectors.template_latest(db, key="dip_sample")
    assert old is not None
    n = old.version
    text = (template_dir / f"dip_sample.v{n}.yaml").read_text().replace(f"version: {n}", f"version: {n + 1}", 1)
    (template_dir / f"dip_sample.v{n + 1}.yaml").write_text(
        text.replace("Is the chronology up to date", "Is the chronology current", 1)
    )
    assert templates_publish(db, directory=template_dir).added == [f"dip_sample v{n + 1}"]
    latest = selectors.template_latest(db, key="dip_sample")
    assert latest is not None and latest.version == n + 1
    assert template_definition(old).version == n
    assert db.get(TemplateVersion, old.id).content_hash == old.content_hash


def test_a_broken_file_stops_publishing_with_file_and_line(db, template_dir):
    (template_dir / "dip_sample.v1.yaml").write_text("key: dip_sample\nversion: 1\ntitle: [unclosed\n")
    with pytest.raises(ValidationFailed) as refused:
        templates_publish(db, directory=template_dir)
    assert "dip_sample.v1.yaml:" in refused.value.errors["templates"]
    assert _count(db) == 0


def test_the_stored_definition_reads_back_as_the_file(db):
    templates_publish(db)
    row = selectors.template_version_get(db, key="case_file_audit", version=1)
    assert row is not None
    definition = template_definition(row)
    assert definition.key == "case_file_audit" and definition.safeguarding_question is not None
    assert len(definition.sections) >= 12  # sections A to L


def test_the_api_lists_templates_and_gives_one_definition(client, db):
    templates_publish(db)
    make_user(db, username="aud", roles=(Role.AUDITOR,))
    headers = api_headers(client, "aud")
    listing = client.get("/api/v1/templates", headers=headers)
    assert listing.status_code == 200
    assert {(t["key"], t["version"]) for t in listing.json()} == set(SHIPPED)
    body = client.get("/api/v1/templates/dip_sample/1", headers=headers).json()
    assert set(body) >= {"key", "version", "title", "kind", "sections"}
    questions = {q["key"]: q for s in body["sections"] for q in s["questions"]}
    assert questions["return_interview_within_72_hours"]["show_if"] == {
        "question": "child_missing_12m",
        "equals": "yes",
    }
    assert questions["assessment_within_45_days"]["prefill"]["from"] == "referral_date"
    assert "return_interview_completed_72_hours" not in questions  # version 1 asked only about offers
    second = client.get("/api/v1/templates/dip_sample/2", headers=headers).json()
    completed = {q["key"]: q for s in second["sections"] for q in s["questions"]}["return_interview_completed_72_hours"]
    assert "completed" in completed["label"] and completed["show_if"] == {
        "question": "child_missing_12m",
        "equals": "yes",
    }
    full = client.get("/api/v1/templates/case_file_audit/2", headers=headers).json()
    numbers = {
        q["key"]: (q["min"], q["max"]) for s in full["sections"] for q in s["questions"] if q["type"] == "number"
    }
    assert numbers == {"social_workers_12m": (0, 50)}  # the bounds answers are checked against
    assert client.get("/api/v1/templates/dip_sample/9", headers=headers).status_code == 404
    assert client.get("/api/v1/templates/dip_sample/99999999999", headers=headers).status_code == 422
    assert client.get("/api/v1/templates").status_code == 401


def test_the_cli_checks_and_publishes(template_dir, monkeypatch, tmp_path):
    runner = CliRunner()
    checked = runner.invoke(cli, ["templates", "check", str(template_dir)])
    assert checked.exit_code == 0 and "9 template files" in checked.output and "no problems" in checked.output
    assert "Checked 3 targets in " in checked.output  # the report targets, against the templates checked
    (template_dir / "broken.v1.yaml").write_text("key: broken\nversion: 1\nkind: nonsense\n")
    failed = runner.invoke(cli, ["templates", "check", str(template_dir)])
    assert failed.exit_code == 1 and "broken.v1.yaml:3:" in failed.output
