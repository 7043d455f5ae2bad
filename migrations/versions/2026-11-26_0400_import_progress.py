"""import progress: rows_total, phase and a heartbeat on case_import

Revision ID: 5d1c0a7e9b21
Revises: cb5cbfa034ef
Create Date: 2026-11-26 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "5d1c0a7e9b21"
down_revision: str | None = "cb5cbfa034ef"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rows_total", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("phase", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("progress_at", app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_import", schema=None) as batch_op:
        batch_op.drop_column("progress_at")
        batch_op.drop_column("phase")
        batch_op.drop_column("rows_total")
