"""audit events linked into the chain after their transaction commits

An event is written at once without its place in the chain (seq, prev_hash, hash and seal empty), so recording
it takes no lock; a short follow-up step (app.audit_trail.service.audit_chain_link) gives committed events their
place in the order they arrived, holding the chain head only for that step. The append-only triggers now allow
exactly that one change: filling in the chain columns of an event that has none, nothing else.

Revision ID: c3d8e5a1f4b7
Revises: a6fa93ffd12b
Create Date: 2026-12-06 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c3d8e5a1f4b7"
down_revision: str | None = "a6fa93ffd12b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit_event is append-only"
CONTENT = ("occurred_at", "actor_id", "actor_label", "action", "entity_type", "entity_id", "summary", "before", "after")
CHAIN = (
    ("seq", sa.Integer()),
    ("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64)),
    ("hash", sqlmodel.sql.sqltypes.AutoString(length=64)),
)


def _linking_only(old: str, new: str) -> str:
    """SQL true when an UPDATE only fills in the chain columns of an event that had none."""
    same = " AND ".join(f"{new}.{c} IS NOT DISTINCT FROM {old}.{c}" for c in CONTENT)
    return f"({old}.hash IS NULL AND {new}.hash IS NOT NULL AND {new}.id = {old}.id AND {same})"


def _sqlite_same(old: str, new: str) -> str:
    same = " AND ".join(f"{new}.{c} IS {old}.{c}" for c in CONTENT)
    return f"({old}.hash IS NULL AND {new}.hash IS NOT NULL AND {new}.id = {old}.id AND {same})"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _ in CHAIN:
            op.alter_column("audit_event", name, nullable=True)
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND {_linking_only('OLD', 'NEW')} THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        return
    # SQLite: the columns change by copying the table, which drops its triggers; they are made again after.
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        for name, kind in CHAIN:
            batch_op.alter_column(name, existing_type=kind, nullable=True)
    op.execute(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        f"WHEN NOT {_sqlite_same('OLD', 'NEW')} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )
    op.execute(
        f"CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def downgrade() -> None:
    # Events still waiting for their place are linked by the app before a downgrade is possible; refuse otherwise.
    pending = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_event WHERE hash IS NULL")).scalar_one()
    if pending:
        raise RuntimeError(f"{pending} audit events are not linked yet: run `caseaudit audit-trail verify` first")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        for name, _ in CHAIN:
            op.alter_column("audit_event", name, nullable=False)
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        for name, kind in CHAIN:
            batch_op.alter_column(name, existing_type=kind, nullable=False)
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
