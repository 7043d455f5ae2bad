"""Procrastinate's schema comes from our migrations (a3d9e5f7b0c4 runs the schema.sql of the pinned version): a newer
Procrastinate brings SQL migrations of its own, which must become a migration of ours before it is used."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from sqlalchemy import text

from app.jobs.worker import libpq_url
from tests.conftest import using_postgres

MIGRATED_FOR = "3.10."  # the Procrastinate whose schema.sql migration a3d9e5f7b0c4 ran


def test_procrastinate_is_the_version_our_migration_made_the_schema_for() -> None:
    assert version("procrastinate").startswith(MIGRATED_FOR), (
        "Procrastinate changed version: add a migration running its sql/migrations/*.sql since "
        f"{MIGRATED_FOR}x (in order), then update MIGRATED_FOR"
    )


def test_the_queue_tables_are_there_after_our_migrations(db, pytestconfig) -> None:
    if not using_postgres(pytestconfig):
        pytest.skip("Procrastinate runs on PostgreSQL only")
    tables = db.execute(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate_%'")).scalars()
    assert set(tables) >= {
        "procrastinate_jobs",
        "procrastinate_events",
        "procrastinate_periodic_defers",
        "procrastinate_workers",
    }


def test_a_database_url_is_given_to_libpq_without_sqlalchemys_driver_name() -> None:
    url = libpq_url("postgresql+psycopg://caseaudit:s%40cret@db:5432/caseaudit?options=-csearch_path%3Dx")
    assert url.startswith("postgresql://caseaudit:s%40cret@db:5432/caseaudit?options=")
