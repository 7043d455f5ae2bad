"""The background import job's progress: written in its own transactions, and turned into a share done."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from app import clock
from app.cases import service
from app.cases.imports import jobs as import_jobs
from app.cases.imports.jobs import import_job, is_stopped, percent_done, progress_writer
from app.cases.models import Case, CaseImport
from app.cases.readers import UploadedFile
from app.cases.service import CHECKING, READING, WRITING
from app.cli import alembic_upgrade
from app.db import make_engine
from tests.conftest import fresh_database_url, make_test_settings


def _import(db, **values) -> CaseImport:
    case_import = CaseImport(
        **{"format": "csv", "mode": "all_or_nothing", "status": "importing", "progress_at": clock.now(), **values}
    )
    db.add(case_import)
    db.flush()
    return case_import


def test_progress_is_saved_for_the_progress_page(db, job_sessions):
    case_import = _import(db)
    report = progress_writer(job_sessions, case_import.id)
    report(CHECKING, 0, 120)
    db.refresh(case_import)
    assert (case_import.phase, case_import.rows_done, case_import.rows_total) == (CHECKING, 0, 120)


def test_progress_while_writing_is_saved_except_on_sqlite_whose_one_writer_is_the_import(db, job_sessions):
    case_import = _import(db, phase=CHECKING)
    progress_writer(job_sessions, case_import.id)(WRITING, 40, 120, writing=True)
    db.refresh(case_import)
    if db.get_bind().dialect.name == "sqlite":
        assert case_import.phase == CHECKING
    else:
        assert (case_import.phase, case_import.rows_done) == (WRITING, 40)


def test_progress_never_revives_a_finished_import(db, job_sessions):
    case_import = _import(db)
    case_import.status = "committed"
    db.flush()
    progress_writer(job_sessions, case_import.id)(READING)
    db.refresh(case_import)
    assert case_import.phase is None


def test_share_done_moves_through_reading_checking_and_writing():
    def share(**values) -> int:
        return percent_done(CaseImport(format="csv", mode="x", status="importing", **values))

    assert share(phase=READING) < share(phase=CHECKING) < share(phase=WRITING, rows_done=0, rows_total=10)
    assert share(phase=WRITING, rows_done=5, rows_total=10) == 70
    assert share(phase=WRITING, rows_done=10, rows_total=10) == 100
    assert percent_done(CaseImport(format="csv", mode="x", status="committed")) == 100


def test_an_import_with_no_heartbeat_for_ten_minutes_has_stopped(db):
    assert not is_stopped(_import(db, progress_at=clock.now() - timedelta(minutes=9)))
    assert is_stopped(_import(db, progress_at=clock.now() - timedelta(minutes=11)))
    assert not is_stopped(_import(db, progress_at=clock.now() - timedelta(hours=2), status="committed"))


def test_the_job_leaves_an_import_another_run_is_writing_alone(db, settings, job_sessions):
    case_import = _import(db, phase=READING)
    import_job(job_sessions, settings, import_id=case_import.id, actor_id=None, today=clock.now().date().isoformat())
    db.refresh(case_import)
    assert case_import.status == "importing" and case_import.phase == READING


def test_the_job_run_again_takes_over_the_import_its_dead_run_left(db, settings, job_sessions):
    """Run again by the queue (attempt 2: the worker of attempt 1 died), it claims the import attempt 1 left
    "importing" and runs it (here its files are gone, so it fails, on the record)."""
    case_import = _import(db, phase=READING)
    today = clock.now().date().isoformat()
    import_job(job_sessions, settings, import_id=case_import.id, actor_id=None, today=today, attempt=2)
    db.refresh(case_import)
    assert case_import.status == "failed"


def test_the_job_runs_on_its_own_connections_and_records_each_phase(pytestconfig, tmp_path, monkeypatch):
    """End to end on a database of its own: separate connections, as on a server (SQLite's one writer too)."""
    engine = make_engine(fresh_database_url(pytestconfig, tmp_path, "import_job"))
    alembic_upgrade(engine.url.render_as_string(hide_password=False))
    try:

        def new_session() -> Session:
            return Session(engine, expire_on_commit=False)

        files = [
            UploadedFile(
                "r.csv",
                b"child_id,case_type,status,start_date,team\nA1,cin,open,01/01/2025,Team X\n"
                b"A2,cp,open,02/01/2025,Team X\n",
            )
        ]
        with new_session() as session:
            case_import = service.import_prepare(session, files=files, format="csv", actor=None, today=date(2025, 6, 1))
            service.import_queue(session, case_import=case_import)
            session.commit()
        phases: list[str] = []
        writer = import_jobs.progress_writer

        def recording_writer(make_session, import_id):
            report = writer(make_session, import_id)

            def record(phase: str, done: int = 0, total: int = 0, *, writing: bool = False) -> None:
                phases.append(phase)
                report(phase, done, total, writing=writing)

            return record

        monkeypatch.setattr(import_jobs, "progress_writer", recording_writer)
        import_jobs.import_job(
            new_session, make_test_settings("sqlite://"), import_id=case_import.id, actor_id=None, today="2026-11-26"
        )
        with new_session() as session:
            done = session.get(CaseImport, case_import.id)
            assert done is not None and (done.status, done.created, done.phase) == ("committed", 2, None)
            assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 2
        assert phases[0] == CHECKING and phases[-1] == WRITING
    finally:
        engine.dispose()
