"""The retention run over the demo's year of audits, with the clock moved seven years on: due records are anonymised
or deleted, a case on legal hold keeps everything, the audit trail still verifies and reports the redactions, no row
is left pointing at a removed one, the reports still run on anonymised audits, and a dry run changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, func, inspect, select, text
from sqlmodel import Session, col

from app.accounts.models import LoginAttempt, User
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import QuestionType
from app.audit_templates.service import template_definition
from app.audit_trail.models import AuditEvent
from app.audit_trail.selectors import trail_events_about_child
from app.audit_trail.service import audit_chain_verify, audit_record, commit_and_link
from app.audits.models import Audit, AuditAnswer, AuditReply
from app.cases.models import Case, CaseImport, CaseImportFile, LegalHold
from app.cli import alembic_upgrade
from app.db import make_engine
from app.moderation.models import Moderation
from app.notifications.models import EmailOutbox
from app.recommendations.models import Recommendation, RecommendationEvent
from app.reports.filters import report_filter_from_query
from app.reports.report import build_report
from app.retention import run as retention
from app.retention.models import RetentionRun
from app.retention.run import retention_run
from app.retention.schedule import DEFAULT_SCHEDULE, schedule_load
from app.sampling.models import SampleCase
from tests.conftest import fresh_database_url, make_test_settings
from tests.test_demo_completed import load_demo

TZ = ZoneInfo("Europe/London")
LATER = date(2033, 12, 6)  # seven years on: everything the demo finished in 2025-2026 is past six years


@dataclass
class World:
    session: Session
    engine: Engine
    lead: User
    url: str


@pytest.fixture
def world(pytestconfig, tmp_path_factory, set_clock) -> Iterator[World]:
    url = fresh_database_url(pytestconfig, tmp_path_factory.mktemp("retention"), "retention")
    alembic_upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        load_demo(session)
        commit_and_link(session)
        lead = session.execute(select(User).where(User.username == "qa.lead")).unique().scalar_one()
        set_clock(datetime.combine(LATER, time(2, 30), TZ))  # the run happens seven years on
        yield World(session=session, engine=engine, lead=lead, url=url)
    engine.dispose()


def _schedule(tmp_path: Path, **changes: dict[str, str]):
    data = yaml.safe_load(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))
    for kind, values in changes.items():
        data["rules"][kind].update(values)
    path = tmp_path / "retention.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return schedule_load(path)


def _closed_case_with_everything(session: Session) -> Case:
    """A case with completed audits, recommendations and replies, closed in 2026: due on LATER."""
    case_id = session.execute(
        select(Audit.case_id)
        .join(Recommendation, col(Recommendation.audit_id) == Audit.id)
        .where(Audit.status == "completed")
        .order_by(Audit.case_id)
        .limit(1)
    ).scalar_one()
    case = session.get(Case, case_id)
    case.status, case.end_date = "closed", date(2026, 11, 1)
    session.add(case)
    return case


def _close_cases(session: Session, n: int) -> list[Case]:
    cases = list(session.execute(select(Case).where(Case.status == "open").order_by(Case.id.desc()).limit(n)).scalars())
    for case in cases:
        case.status, case.end_date = "closed", date(2026, 10, 1)
        session.add(case)
    return cases


def _snapshot(session: Session) -> dict[str, int]:
    tables = inspect(session.connection()).get_table_names()
    return {
        t: session.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
        for t in tables
        if not t.startswith("procrastinate")
    }


def _hold(session: Session, case: Case, lead: User) -> None:
    session.add(
        LegalHold(case_id=case.id, reason="Complaint to the Ombudsman about this child's plan", placed_by_id=lead.id)
    )


def _text_keys(session: Session, audit: Audit) -> set[str]:
    version = session.get(TemplateVersion, audit.template_version_id)
    return {q.key for q in template_definition(version).questions if q.type == QuestionType.TEXT}


def _orphans(session: Session) -> list[str]:
    """Rows whose foreign key names a row that is gone (every foreign key in the schema)."""
    found = []
    inspector = inspect(session.connection())
    for table in inspector.get_table_names():
        if table.startswith("procrastinate"):
            continue
        for fk in inspector.get_foreign_keys(table):
            (column,), (target,) = fk["constrained_columns"], fk["referred_columns"]
            missing = session.execute(
                text(
                    f'SELECT count(*) FROM "{table}" t WHERE t."{column}" IS NOT NULL AND NOT EXISTS '
                    f'(SELECT 1 FROM "{fk["referred_table"]}" r WHERE r."{target}" = t."{column}")'
                )
            ).scalar_one()
            if missing:
                found.append(f"{table}.{column}: {missing}")
    return found


def test_a_dry_run_lists_what_is_due_and_changes_nothing(world: World) -> None:
    db = world.session
    _closed_case_with_everything(db)
    _close_cases(db, 5)
    commit_and_link(db)
    before = _snapshot(db)
    trail_before = db.execute(select(func.count()).where(col(AuditEvent.redacted_at).is_not(None))).scalar_one()

    outcome = retention_run(db, schedule_load(), today=LATER, tz=TZ, dry_run=True)

    due = {o.kind: o for o in outcome.rules}
    closed = db.execute(select(func.count()).select_from(Case).where(Case.status == "closed")).scalar_one()
    assert due["closed_cases"].due == closed > 6 and len(due["closed_cases"].examples) == 10
    assert due["completed_audits"].due > 200
    events = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert due["recommendations"].due >= 20 and due["trail_details"].due == events > 40
    assert all(o.done == 0 for o in outcome.rules)
    db.rollback()
    assert _snapshot(db) == before
    assert db.execute(select(func.count()).where(col(AuditEvent.redacted_at).is_not(None))).scalar_one() == trail_before


def test_the_run_anonymises_what_is_due_and_keeps_what_is_held(world: World) -> None:
    db = world.session
    held = _closed_case_with_everything(db)
    held_child = held.child_id
    _hold(db, held, world.lead)
    due_cases = _close_cases(db, 5)
    due_children = {c.id: c.child_id for c in due_cases}
    for case in due_cases:  # what the trail says about each child, by ID
        audit_record(
            db,
            actor=world.lead,
            action="case.view",
            summary=f"Viewed the case of child {case.child_id}",
            entity_type="case",
            entity_id=case.id,
        )
    audit_record(
        db,
        actor=world.lead,
        action="case.view",
        summary=f"Viewed the case of child {held_child}",
        entity_type="case",
        entity_id=held.id,
    )
    commit_and_link(db)
    held_audits = list(db.execute(select(Audit).where(Audit.case_id == held.id, Audit.status == "completed")).scalars())
    held_answers = {
        (a.audit_id, a.question_key): a.value
        for a in db.execute(
            select(AuditAnswer).where(col(AuditAnswer.audit_id).in_([x.id for x in held_audits]))
        ).scalars()
    }
    held_recs = {
        r.id: r.text for r in db.execute(select(Recommendation).where(Recommendation.case_id == held.id)).scalars()
    }
    assert held_recs and held_answers

    outcome = retention_run(db, schedule_load(), today=LATER, tz=TZ, dry_run=False, actor_label="test")

    assert outcome.ok, outcome.problem
    rules = {o.kind: o for o in outcome.rules}
    closed = db.execute(select(func.count()).select_from(Case).where(Case.status == "closed")).scalar_one()
    assert rules["closed_cases"].done == closed - 1 and rules["closed_cases"].held == 1
    assert rules["completed_audits"].done > 200 and rules["completed_audits"].held == len(held_audits)
    db.expire_all()
    # due cases: anonymised, their trail redacted
    for case_id, child_id in due_children.items():
        case = db.get(Case, case_id)
        assert case.child_id == f"ANON-{case_id}" and case.worker_name is None and case.anonymised_at is not None
        named = trail_events_about_child(db, {"case": [case_id]}, child_id=child_id)
        assert named and all(e.redacted_at is not None for e in named)
        assert not any(child_id in (e.summary or "") for e in db.execute(select(AuditEvent)).scalars())
    # the held case: everything kept
    assert db.get(Case, held.id).child_id == held_child
    for audit in held_audits:
        assert db.get(Audit, audit.id).anonymised_at is None
    kept = {
        (a.audit_id, a.question_key): a.value
        for a in db.execute(
            select(AuditAnswer).where(col(AuditAnswer.audit_id).in_([x.id for x in held_audits]))
        ).scalars()
    }
    assert kept == held_answers
    assert {
        r.id: r.text for r in db.execute(select(Recommendation).where(Recommendation.case_id == held.id)).scalars()
    } == held_recs
    about_held = trail_events_about_child(db, {"case": [held.id]}, child_id=held_child)
    assert about_held and all(e.redacted_at is None for e in about_held)
    # other audits: free text gone, grades kept
    anonymised = (
        db.execute(select(Audit).where(Audit.status == "completed", Audit.case_id != held.id).limit(20)).scalars().all()
    )
    for audit in anonymised:
        assert audit.anonymised_at is not None
        keys = _text_keys(db, audit)
        values = (
            db.execute(
                select(AuditAnswer.value).where(
                    AuditAnswer.audit_id == audit.id, col(AuditAnswer.question_key).in_(keys)
                )
            )
            .scalars()
            .all()
        )
        assert all(v is None for v in values)
    assert (
        db.execute(select(func.count()).select_from(Audit).where(col(Audit.final_grade).is_not(None))).scalar_one()
        > 100
    )
    closed_recs = (
        db.execute(select(Recommendation).where(Recommendation.status == "closed", Recommendation.case_id != held.id))
        .scalars()
        .all()
    )
    assert closed_recs and all(r.text == retention.REMOVED for r in closed_recs)
    assert all(
        m.rationale == ""
        for m in db.execute(select(Moderation).where(col(Moderation.anonymised_at).is_not(None))).scalars()
    )
    # the trail still verifies and says what was redacted, when and under which rule
    check = audit_chain_verify(db)
    assert check.ok, check.problem
    assert check.redacted >= 40
    assert {r.rule for r in check.redactions} >= {"closed_cases", "trail_details"}
    assert not _orphans(db)
    # the run is recorded, and a second run finds nothing more
    run = db.get(RetentionRun, outcome.run_id)
    assert run.status == "done" and run.summary["closed_cases"]["done"] == closed - 1
    again = retention_run(db, schedule_load(), today=LATER, tz=TZ, dry_run=False, actor_label="test")
    assert sum(o.due for o in again.rules) == 0
    # the reports still run over the anonymised year
    settings = make_test_settings(world.url)
    flt = report_filter_from_query({"date_from": "2025-12-01", "date_to": "2026-11-30"}, user=world.lead, today=LATER)
    report = build_report(db, flt, settings=settings)
    assert report.audits > 200 and report.grades.overall.graded > 50


def test_deleting_closed_cases_removes_everything_about_them(world: World, tmp_path: Path) -> None:
    db = world.session
    case = _closed_case_with_everything(db)
    child_id, case_id = case.child_id, case.id
    audit_ids = list(db.execute(select(Audit.id).where(Audit.case_id == case_id)).scalars())
    rec_ids = list(db.execute(select(Recommendation.id).where(Recommendation.case_id == case_id)).scalars())
    commit_and_link(db)
    schedule = _schedule(tmp_path, closed_cases={"then": "delete"})

    outcome = retention_run(db, schedule, today=LATER, tz=TZ, dry_run=False, actor_label="test")

    assert outcome.ok, outcome.problem
    db.expire_all()
    assert db.get(Case, case_id) is None
    assert not db.execute(select(Audit.id).where(col(Audit.id).in_(audit_ids))).all()
    assert not db.execute(select(AuditAnswer.id).where(col(AuditAnswer.audit_id).in_(audit_ids))).all()
    assert not db.execute(select(AuditReply.id).where(col(AuditReply.audit_id).in_(audit_ids))).all()
    assert not db.execute(select(Recommendation.id).where(col(Recommendation.id).in_(rec_ids))).all()
    assert not db.execute(
        select(RecommendationEvent.id).where(col(RecommendationEvent.recommendation_id).in_(rec_ids))
    ).all()
    assert not db.execute(select(SampleCase.id).where(SampleCase.case_id == case_id)).all()
    assert not any(child_id in e.summary for e in db.execute(select(AuditEvent)).scalars())
    assert not _orphans(db)
    check = audit_chain_verify(db)
    assert check.ok, check.problem


def test_plain_deletions_and_stored_files(world: World, tmp_path: Path) -> None:
    db = world.session
    old, recent = LATER - timedelta(days=400), LATER - timedelta(days=10)
    at = lambda day: datetime.combine(day, time(12), TZ)  # noqa: E731
    db.add_all(
        [
            LoginAttempt(username="someone", client_address="127.0.0.1", succeeded=False, created_at=at(old)),
            LoginAttempt(username="someone", client_address="127.0.0.1", succeeded=True, created_at=at(recent)),
            EmailOutbox(
                to_address="a@example.org",
                subject="s",
                body="b",
                kind="k",
                dedupe_key="old-sent",
                created_at=at(old),
                sent_at=at(old),
            ),
            EmailOutbox(
                to_address="a@example.org", subject="s", body="b", kind="k", dedupe_key="old-unsent", created_at=at(old)
            ),
        ]
    )
    failed = CaseImport(
        format="csv", mode="incremental", status="failed", created_at=at(recent), finished_at=at(recent)
    )
    db.add(failed)
    db.flush()
    db.add(CaseImportFile(import_id=failed.id, name="extract.csv", sha256="0" * 64, content=b"child_id\n"))
    commit_and_link(db)
    schedule = _schedule(tmp_path, import_files={"keep": "7 days"})

    outcome = retention_run(db, schedule, today=LATER, tz=TZ, dry_run=False, actor_label="test")

    assert outcome.ok
    db.expire_all()
    assert [
        a.succeeded for a in db.execute(select(LoginAttempt).where(LoginAttempt.username == "someone")).scalars()
    ] == [True]
    assert {
        e.dedupe_key
        for e in db.execute(
            select(EmailOutbox).where(col(EmailOutbox.dedupe_key).in_(["old-sent", "old-unsent"]))
        ).scalars()
    } == {"old-unsent"}
    assert not db.execute(select(CaseImportFile.id).where(CaseImportFile.import_id == failed.id)).all()
    assert db.get(CaseImport, failed.id).status == "expired"  # cannot be tried again without its files


def test_a_failing_batch_is_undone_whole_and_stops_the_run(world: World, monkeypatch) -> None:
    db = world.session
    _close_cases(db, 3)
    commit_and_link(db)
    calls: list[list[int]] = []

    def second_batch_fails(session: Session, ids: list[int], rule: str) -> None:
        calls.append(ids)
        retention._cases_anonymise(session, ids, rule)  # writes, then (the second time) fails
        if len(calls) == 2:
            raise RuntimeError("disk full")

    handler = retention.HANDLERS["closed_cases"]
    broken = retention.Handler(handler.due, handler.held, {"anonymise": second_batch_fails}, "cases")
    monkeypatch.setitem(retention.HANDLERS, "closed_cases", broken)
    outcome = retention_run(db, schedule_load(), today=LATER, tz=TZ, dry_run=False, actor_label="test", batch_size=50)

    assert outcome.problem == "rule closed_cases: a batch of 50 failed (RuntimeError); nothing of it applied"
    db.expire_all()
    first, second = calls
    assert all(db.get(Case, i).anonymised_at is not None for i in first)  # the batch before stays applied
    assert all(db.get(Case, i).anonymised_at is None for i in second)  # the failing batch: nothing of it
    assert {o.kind: o.done for o in outcome.rules}["closed_cases"] == 50
    assert [o.kind for o in outcome.rules][-1] == "closed_cases"  # the run stopped there
    run = db.get(RetentionRun, outcome.run_id)
    assert run.status == "failed" and "closed_cases" in run.problem
    assert audit_chain_verify(db).ok
