"""the job queue: Procrastinate's tables on PostgreSQL, and a record of every job's failures on both databases

On PostgreSQL, background work (imports, emails, board packs, periodic jobs) runs on Procrastinate, whose jobs live
in this database: its schema is the one the installed Procrastinate ships (`procrastinate/sql/schema.sql`), created
here so that the schema only ever comes from these migrations. pyproject.toml pins Procrastinate to one minor
version; a newer one brings its own SQL migrations, which must be added as a migration of ours
(tests/jobs/test_queue_schema.py fails until then). On SQLite, the embedded default, a thread in the app process
runs the same jobs and Procrastinate is not used.

`job_failure` (both databases) keeps each failed attempt of a job with its error, for the QA lead's page.

Revision ID: a3d9e5f7b0c4
Revises: e1b7c3d5f8a2
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence
from importlib import resources

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "a3d9e5f7b0c4"
down_revision: str | None = "e1b7c3d5f8a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCRASTINATE_OBJECTS = """
DROP TABLE IF EXISTS procrastinate_periodic_defers, procrastinate_events, procrastinate_jobs,
    procrastinate_workers CASCADE;
DROP FUNCTION IF EXISTS procrastinate_defer_jobs_v1, procrastinate_defer_periodic_job_v2,
    procrastinate_fetch_job_v2, procrastinate_finish_job_v1, procrastinate_cancel_job_v1,
    procrastinate_retry_job_v1, procrastinate_retry_job_v2, procrastinate_notify_queue_job_inserted_v1,
    procrastinate_notify_queue_abort_job_v1, procrastinate_trigger_function_status_events_insert_v1,
    procrastinate_trigger_function_status_events_update_v1, procrastinate_trigger_function_scheduled_events_v1,
    procrastinate_trigger_abort_requested_events_procedure_v1, procrastinate_unlink_periodic_defers_v1,
    procrastinate_register_worker_v1, procrastinate_unregister_worker_v1, procrastinate_update_heartbeat_v1,
    procrastinate_prune_stalled_workers_v1 CASCADE;
DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type, procrastinate_job_to_defer_v1 CASCADE;
"""


def upgrade() -> None:
    op.create_table(
        "job_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_name", sa.String(length=80), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_job_failure_failed_at", "job_failure", ["failed_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(resources.files("procrastinate.sql").joinpath("schema.sql").read_text())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PROCRASTINATE_OBJECTS)
    op.drop_index("ix_job_failure_failed_at", table_name="job_failure")
    op.drop_table("job_failure")
